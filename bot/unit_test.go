package bot

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"<!channel> hi", "&lt;!channel&gt; hi"},
		{"<@U123> & <!subteam^S1|ops>", "&lt;@U123&gt; &amp; &lt;!subteam^S1|ops&gt;"},
		{"<https://evil.example.com|click>", "&lt;https://evil.example.com|click&gt;"},
		{"already &amp; escaped", "already &amp;amp; escaped"},
		{"@here and @channel", "@\u2060here and @\u2060channel"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestEscapeIsLiteral: mrkdwn's formatting characters in untrusted text
// cannot format, quote or change the direction of what Slack shows, and
// an "_" inside a word stays an underscore.
func TestEscapeIsLiteral(t *testing.T) {
	tests := []struct{ in, want string }{
		{"*x* _y_ ~z~", "\u2217x\u2217 \u02CDy\u02CD \u223Cz\u223C"},
		{"```\nrm -rf /\n```", "\u02CB\u02CB\u02CB\nrm -rf /\n\u02CB\u02CB\u02CB"},
		{"`code`", "\u02CBcode\u02CB"},
		{"request_id=42 user john_doe", "request_id=42 user john_doe"},
		{"_leading and trailing_", "\u02CDleading and trailing\u02CD"},
		{"snake_ _case", "snake\u02CD \u02CDcase"},
		{"> quoted\nline 2\n  > indented quote", "\u00AD&gt; quoted\nline 2\n  \u00AD&gt; indented quote"},
		{"a > b", "a &gt; b"},
		{"\uFF1E wide quote", "\u00AD\uFF1E wide quote"},
		{"gnp\u202Eexe.png", "gnpexe.png"},
		{"\u2066a\u2069 \u200Eb\u200F \u061Cc", "a b c"},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestMrkdwnIsVerbatim: Slack does not turn bare URLs or #channels of
// untrusted text into links.
func TestMrkdwnIsVerbatim(t *testing.T) {
	if !mrkdwn("see https://evil.example.com in #general").Verbatim {
		t.Fatal("mrkdwn text objects are not verbatim")
	}
}

func TestLink(t *testing.T) {
	tests := []struct{ url, label, want string }{
		{"https://g.example.com/d?a=1&b=2", "look", "<https://g.example.com/d?a=1&amp;b=2|look>"},
		{"https://g.example.com/a|b>c", "x<y", "<https://g.example.com/a%7Cb%3Ec|x&lt;y>"},
		{"javascript:alert(1)", "", "javascript:alert(1)"},
		{"javascript:alert(1)", "go", "go (javascript:alert(1))"},
		{"https://x.example.com", "a|b", "<https://x.example.com|a¦b>"},
	}
	for _, tt := range tests {
		if got := Link(tt.url, tt.label); got != tt.want {
			t.Errorf("Link(%q, %q) = %q, want %q", tt.url, tt.label, got, tt.want)
		}
	}
	if Mention("S0123") != "<!subteam^S0123>" || Mention("<!channel>") != "" || Mention("") != "" {
		t.Error("Mention accepts only user group ids")
	}
}

func TestClipDoesNotCutEntities(t *testing.T) {
	s := Escape(strings.Repeat("<", 10))
	for n := 2; n < len(s); n++ {
		c := clip(s, n)
		if strings.Count(c, "&") != strings.Count(c, ";") {
			t.Errorf("clip(%d) = %q cuts an entity", n, c)
		}
	}
}

func TestReportBlocksStayWithinLimits(t *testing.T) {
	var fs []checks.Finding
	for i := range 500 {
		fs = append(fs, checks.Finding{Fingerprint: "x", Severity: checks.Warn, Title: strings.Repeat("<t>", 100),
			Detail: strings.Repeat("&", 400), Link: "https://x.example.com/" + strings.Repeat("a", i%50)})
	}
	t0 := time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
	rep := checks.NewReport("prod", t0, t0.Add(time.Minute), []checks.Result{
		{Check: "logs", Status: checks.Warn, Summary: "many", Findings: fs},
		{Check: "pods", Status: checks.OK, Summary: "fine"},
	})
	blocks := reportBlocks(testTexts(t), rep, 1, "@alice", nil)
	total := 2
	for _, b := range blocks {
		total += size(b)
	}
	if len(blocks) > maxMessageBlocks || total > blocksBudget {
		t.Errorf("%d blocks, %d bytes", len(blocks), total)
	}
	last := blocks[len(blocks)-1]
	if size(last) == 0 || !strings.Contains(string(mustJSON(t, blocks)), "more") {
		t.Error("no \"and N more\" line")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFieldErrorsMapToBlocks(t *testing.T) {
	rec := triage.DecisionRecord{Decision: triage.Noise, Conclusion: " ", Ticket: "nope", DecidedAt: time.Now()}
	err := rec.Validate()
	ve, ok := err.(*opsbot.ValidationError)
	if !ok {
		t.Fatalf("Validate = %v", err)
	}
	got := fieldErrors(ve, inputBlocks(triage.Noise))
	if got["conclusion"] == "" || got["ticket"] == "" || got["dashboard"] == "" {
		t.Errorf("errors = %v", got)
	}
	if !strings.Contains(got["conclusion"], "decidedBy: required") {
		t.Errorf("a field without a block goes under the conclusion: %v", got)
	}
}

func TestDuplicateRoutesFail(t *testing.T) {
	rt := newRouteTable()
	rt.action("a", "one", nil)
	rt.action("a", "two", nil)
	rt.view("v", "v", "b", nil)
	if err := rt.err(); err == nil || !strings.Contains(err.Error(), "action_id a") {
		t.Errorf("err = %v", err)
	}
}

// frame encodes a server-to-client WebSocket frame.
func frame(opcode byte, fin bool, payload []byte, mask bool) []byte {
	b0 := opcode
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	m := byte(0)
	if mask {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		out = append(out, m|byte(n))
	case n < 1<<16:
		out = append(out, m|126, byte(n>>8), byte(n))
	default:
		out = append(out, m|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	p := append([]byte(nil), payload...)
	if mask {
		key := []byte{1, 2, 3, 4}
		out = append(out, key...)
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	return append(out, p...)
}

func TestFrameTapFindsDisconnects(t *testing.T) {
	var reasons []string
	tap := frameTap{onDisconnect: func(r string) { reasons = append(reasons, r) }}
	var stream []byte
	stream = append(stream, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"...)
	stream = append(stream, frame(0x1, true, []byte(`{"type":"hello"}`), false)...)
	stream = append(stream, frame(0x9, true, []byte("ping"), false)...)
	big := []byte(`{"type":"events_api","payload":"` + strings.Repeat("x", 70000) + `"}`)
	stream = append(stream, frame(0x1, true, big, false)...)
	// A fragmented disconnect with a ping between its fragments.
	msg := []byte(`{"type":"disconnect","reason":"refresh_requested"}`)
	stream = append(stream, frame(0x1, false, msg[:10], false)...)
	stream = append(stream, frame(0x9, true, nil, false)...)
	stream = append(stream, frame(0x0, true, msg[10:], false)...)
	stream = append(stream, frame(0x1, true, []byte(`{"type":"disconnect","reason":"link_disabled"}`), true)...)
	for i := range stream { // one byte at a time: the worst split
		tap.feed(stream[i : i+1])
	}
	if strings.Join(reasons, ",") != "refresh_requested,link_disabled" {
		t.Errorf("reasons = %v", reasons)
	}
}

// A text that cannot be rendered is logged, and the user reads a safe
// generic sentence instead.
func TestSayFailsSafely(t *testing.T) {
	core, logs := observer.New(zap.ErrorLevel)
	tx := texts{set: nil, log: zap.New(core)}
	if got := say(tx, templates.OpsBusy, templates.NoData{}); got != textFailed {
		t.Errorf("say without templates = %q", got)
	}
	if got := say(testTexts(t), templates.Text[templates.NoData]{}, templates.NoData{}); got != textFailed {
		t.Errorf("say of an undeclared text = %q", got)
	}
	entries := logs.FilterField(zap.String("template", "ops.busy")).All()
	if len(entries) != 1 || entries[0].Level != zap.ErrorLevel {
		t.Errorf("logged %v", logs.All())
	}
}

// The bot's own answers come from the templates, so an override directory
// (config bot.templatesDir) changes them.
func TestOverriddenTexts(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"ops.usage.tmpl":               "Ask me: {{.Environments}}\n",
		"triage.followup.noise.tmpl":   "{{/* nothing to say */}}\n",
		"triage.followup.runbook.tmpl": "Runbook: {{.Runbook}}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := templates.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := &Bot{opts: Options{Environments: []string{"prod", "<dev>"}, Templates: set}, log: zap.NewNop()}
	if _, msg := b.routeCommand("help", &request{}); msg != "Ask me: prod, &lt;dev&gt;" {
		t.Errorf("help = %q", msg)
	}
	// A follow-up that renders empty gives way to the runbook's sentence.
	got := decisionTexts{tmpl: set, log: zap.NewNop()}.followUpText(triage.DecisionRecord{Decision: triage.Noise}, "@alice")
	if want := "Runbook: " + Escape(triage.Noise.Runbook()); got != want {
		t.Errorf("empty follow-up: %q, want %q", got, want)
	}
}
