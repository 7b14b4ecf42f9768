package alertschannel

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/prometheus/common/model"
	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/checks"
)

var london = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// The checklist runs Tuesday 24 November 2026 at 09:30; it last ran on
// Monday at 09:30.
var (
	now   = time.Date(2026, 11, 24, 9, 30, 0, 0, london)
	since = time.Date(2026, 11, 23, 9, 30, 0, 0, london)
)

func at(day, hour, min int) time.Time { return time.Date(2026, 11, day, hour, min, 0, 0, london) }

func attachments(t *testing.T, as ...map[string]any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(as)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// amPost is Alertmanager's default Slack notification, through an incoming
// webhook.
func amPost(t *testing.T, title string) slacktest.Message {
	color := "danger"
	if strings.HasPrefix(title, "[RESOLVED]") {
		color = "good"
	}
	return slacktest.Message{
		Subtype: "bot_message", BotID: "B0AM00001", Username: "AlertManager",
		Attachments: attachments(t, map[string]any{
			"color": color, "title": title, "title_link": "http://am.monitoring:9093/#/alerts?receiver=slack",
			"fallback": title + " | http://am.monitoring:9093/#/alerts?receiver=slack", "mrkdwn_in": []string{"fallback", "pretext", "text"},
		}),
	}
}

// sentryPost is Sentry's issue alert in its attachment layout.
func sentryPost(t *testing.T, project, title string) slacktest.Message {
	return slacktest.Message{
		User: "U0SENTRY1", BotID: "B0SENTRY1", AppID: "A0SENTRY1",
		Attachments: attachments(t, map[string]any{
			"color": "#E03E2F", "title": title, "title_link": "https://acme.sentry.io/issues/4213/?referrer=slack",
			"text": "shop.views in checkout", "fallback": "[" + project + "] " + title,
			"footer":      "SHOP-1A via New issue alert",
			"footer_icon": "https://s1.sentry-cdn.com/_static/sentry/images/sentry-email-avatar.png",
		}),
	}
}

type harness struct {
	srv  *slacktest.Server
	api  *slack.Client
	tsOf map[string]string // a label -> the ts it was seeded at
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	srv := slacktest.New(slacktest.Options{})
	t.Cleanup(srv.Close)
	return &harness{srv: srv, api: srv.NewClient(), tsOf: map[string]string{}}
}

// seed posts m to the alerts channel at when; label names it for later
// assertions.
func (h *harness) seed(t *testing.T, label string, when time.Time, m slacktest.Message) {
	t.Helper()
	m.TS = slackTS(when)
	ts, err := h.srv.Seed(slacktest.DefaultAlertsChannelID, m)
	if err != nil {
		t.Fatalf("seed %s: %v", label, err)
	}
	if label != "" {
		h.tsOf[label] = ts
	}
}

func (h *harness) check(t *testing.T, cfg Config, opts Options) *Check {
	t.Helper()
	if cfg.Channel == "" {
		cfg.Channel = slacktest.DefaultAlertsChannelID
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return now }
	}
	if opts.Since == nil {
		opts.Since = func(context.Context) (time.Time, error) { return since, nil }
	}
	if opts.Location == nil {
		opts.Location = london
	}
	opts.Logger = zap.NewNop()
	c, err := New(h.api, cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func (h *harness) permalink(label string) string {
	return "https://" + slacktest.DefaultTeamDomain + ".slack.com/archives/" + slacktest.DefaultAlertsChannelID +
		"/p" + strings.ReplaceAll(h.tsOf[label], ".", "")
}

func TestRunReadsTheChannel(t *testing.T) {
	h := newHarness(t)
	// Before the last run: not read.
	h.seed(t, "", since.Add(-time.Hour), amPost(t, "[FIRING:1] OldAlert (warning)"))
	// Fired three times overnight, critical, then resolved.
	h.seed(t, "", at(23, 22, 0), amPost(t, "[FIRING:2] KubePodCrashLooping (shop critical)"))
	h.seed(t, "", at(23, 23, 0), amPost(t, "[FIRING:3] KubePodCrashLooping (shop critical)"))
	h.seed(t, "crash-resolved", at(24, 1, 0), amPost(t, "[RESOLVED] KubePodCrashLooping (shop critical)"))
	// Still firing at the end of the window.
	h.seed(t, "", at(24, 3, 0), amPost(t, "[FIRING:1] HighLatency shop (api warning)"))
	h.seed(t, "latency", at(24, 7, 0), amPost(t, "[FIRING:1] HighLatency shop (api warning)"))
	// Fired and resolved, not critical.
	h.seed(t, "", at(24, 4, 0), amPost(t, "[FIRING:1] NodeDiskFull node-3 (warning)"))
	h.seed(t, "disk", at(24, 5, 0), amPost(t, "[RESOLVED] NodeDiskFull node-3 (warning)"))
	// Exceptions: two posts of one (ids differ), one of another.
	h.seed(t, "valueerror", at(24, 2, 0), sentryPost(t, "shop", "ValueError: invalid literal for int() with base 10: 'abc'"))
	h.seed(t, "", at(24, 6, 0), sentryPost(t, "billing", "KeyError: 'user_8f3a9c2e1b'"))
	h.seed(t, "keyerror", at(24, 8, 0), sentryPost(t, "billing", "KeyError: 'user_77aa01b2c3'"))
	// People and Slack itself: read, not classified.
	h.seed(t, "", at(24, 8, 30), slacktest.Message{User: slacktest.DefaultAliceID, Text: "looking at the latency alert"})
	h.seed(t, "", at(24, 8, 31), slacktest.Message{User: slacktest.DefaultBobID, Subtype: "channel_join", Text: "<@U00000B01> has joined the channel"})

	res := h.check(t, Config{}, Options{}).Run(context.Background())

	if res.Status != checks.Fail {
		t.Errorf("status = %v, want fail", res.Status)
	}
	wantSummary := "12 posts since 09:30 yesterday: 3 alerts (1 still firing), 2 exceptions"
	if res.Summary != wantSummary {
		t.Errorf("summary = %q\nwant        %q", res.Summary, wantSummary)
	}
	want := []checks.Finding{
		{Fingerprint: "alertschannel/alert/HighLatency", Severity: checks.Fail, Object: "HighLatency",
			Title: "HighLatency posted 2× (still firing)", Count: 2, Link: h.permalink("latency"),
			Detail: "2 firing notifications, none resolved; latest (07:00): [FIRING:1] HighLatency shop (api warning)"},
		{Fingerprint: "alertschannel/alert/KubePodCrashLooping", Severity: checks.Fail, Object: "KubePodCrashLooping",
			Title: "KubePodCrashLooping posted 3× (resolved, critical)", Count: 3, Link: h.permalink("crash-resolved"),
			Detail: "2 firing and 1 resolved notifications; latest (01:00): [RESOLVED] KubePodCrashLooping (shop critical)"},
		{Fingerprint: "alertschannel/exception/KeyError: 'user_<id>'", Severity: checks.Warn, Object: "billing",
			Title: "KeyError: 'user_77aa01b2c3' posted 2×", Count: 2, Link: h.permalink("keyerror"),
			Detail: "project billing\nKeyError: 'user_77aa01b2c3'\nKeyError: 'user_8f3a9c2e1b'"},
		{Fingerprint: "alertschannel/alert/NodeDiskFull", Severity: checks.Warn, Object: "NodeDiskFull",
			Title: "NodeDiskFull posted 2× (resolved)", Count: 2, Link: h.permalink("disk"),
			Detail: "1 firing and 1 resolved notifications; latest (05:00): [RESOLVED] NodeDiskFull node-3 (warning)"},
		{Fingerprint: "alertschannel/exception/ValueError: invalid literal for int() with base N: 'abc'", Severity: checks.Warn,
			Object: "shop", Title: "ValueError: invalid literal for int() with base 10: 'abc' posted once", Count: 1,
			Link: h.permalink("valueerror"), Detail: "project shop\nValueError: invalid literal for int() with base 10: 'abc'"},
	}
	if len(res.Findings) != len(want) {
		t.Fatalf("got %d findings, want %d: %+v", len(res.Findings), len(want), res.Findings)
	}
	for i := range want {
		if !reflect.DeepEqual(res.Findings[i], want[i]) {
			t.Errorf("finding %d:\n got %+v\nwant %+v", i, res.Findings[i], want[i])
		}
	}

	// One history call covering exactly the window.
	calls := h.srv.Calls("conversations.history")
	if len(calls) != 1 {
		t.Fatalf("%d conversations.history calls, want 1", len(calls))
	}
	args := calls[0].Args
	if args.Get("channel") != slacktest.DefaultAlertsChannelID || args.Get("oldest") != slackTS(since) || args.Get("latest") != slackTS(now) {
		t.Errorf("history args = %v, want the alerts channel from %s to %s", args, slackTS(since), slackTS(now))
	}
	if n := len(h.srv.Calls("chat.getPermalink")); n != len(want) {
		t.Errorf("%d chat.getPermalink calls, want %d", n, len(want))
	}
}

func TestRunQuietChannel(t *testing.T) {
	h := newHarness(t)
	h.seed(t, "", at(24, 8, 30), slacktest.Message{User: slacktest.DefaultAliceID, Text: "morning"})
	// An empty Since falls back to the window (24h by default).
	c := h.check(t, Config{}, Options{Since: func(context.Context) (time.Time, error) { return time.Time{}, nil }})
	res := c.Run(context.Background())
	if res.Status != checks.OK || len(res.Findings) != 0 {
		t.Errorf("status %v findings %v, want ok and none", res.Status, res.Findings)
	}
	if want := "1 post since 09:30 yesterday: no alerts or exceptions"; res.Summary != want {
		t.Errorf("summary = %q, want %q", res.Summary, want)
	}
	if got := h.srv.Calls("conversations.history")[0].Args.Get("oldest"); got != slackTS(now.Add(-24*time.Hour)) {
		t.Errorf("oldest = %s, want 24h before now", got)
	}
}

func TestRunSinceError(t *testing.T) {
	h := newHarness(t)
	c := h.check(t, Config{}, Options{Since: func(context.Context) (time.Time, error) {
		return time.Time{}, fmt.Errorf("store: database is locked")
	}})
	res := c.Run(context.Background())
	if res.Status != checks.Unknown || res.Summary != "cannot tell when the checklist last ran: store: database is locked" {
		t.Errorf("got %v %q", res.Status, res.Summary)
	}
	if n := len(h.srv.Calls("conversations.history")); n != 0 {
		t.Errorf("%d history calls, want none", n)
	}
}

// seedMany posts n firing notifications of one alert, one a minute, the
// newest a minute before now.
func seedMany(t *testing.T, h *harness, n int) {
	for i := range n {
		h.seed(t, "", now.Add(-time.Duration(i+1)*time.Minute), amPost(t, "[FIRING:1] KubeJobFailed (shop warning)"))
	}
}

func TestPagination(t *testing.T) {
	h := newHarness(t)
	seedMany(t, h, 250)
	res := h.check(t, Config{}, Options{}).Run(context.Background())
	if len(res.Findings) != 1 || res.Findings[0].Count != 250 {
		t.Fatalf("findings = %+v, want one with count 250", res.Findings)
	}
	if !strings.HasPrefix(res.Summary, "250 posts since 09:30 yesterday: 1 alert (1 still firing)") {
		t.Errorf("summary = %q", res.Summary)
	}
	calls := h.srv.Calls("conversations.history")
	if len(calls) != 2 {
		t.Fatalf("%d history calls, want 2", len(calls))
	}
	if calls[0].Args.Get("cursor") != "" || calls[1].Args.Get("cursor") == "" {
		t.Errorf("cursors %q, %q: want none, then the next_cursor", calls[0].Args.Get("cursor"), calls[1].Args.Get("cursor"))
	}
	if calls[0].Args.Get("limit") != "200" {
		t.Errorf("limit = %s, want 200", calls[0].Args.Get("limit"))
	}
}

func TestMaxMessages(t *testing.T) {
	tests := []struct {
		max, calls int
		lastLimit  string
	}{
		{max: 120, calls: 1, lastLimit: "120"},
		{max: 230, calls: 2, lastLimit: "30"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.max), func(t *testing.T) {
			h := newHarness(t)
			seedMany(t, h, 250)
			res := h.check(t, Config{MaxMessages: tt.max}, Options{}).Run(context.Background())
			if res.Findings[0].Count != tt.max {
				t.Errorf("count = %d, want %d", res.Findings[0].Count, tt.max)
			}
			if !strings.HasSuffix(res.Summary, fmt.Sprintf("(read the newest %d posts only: maxMessages)", tt.max)) {
				t.Errorf("summary = %q, want it to say it stopped at %d", res.Summary, tt.max)
			}
			calls := h.srv.Calls("conversations.history")
			if len(calls) != tt.calls || calls[len(calls)-1].Args.Get("limit") != tt.lastLimit {
				t.Errorf("%d calls, last limit %s; want %d, %s", len(calls), calls[len(calls)-1].Args.Get("limit"), tt.calls, tt.lastLimit)
			}
		})
	}
}

func TestPermalinksForTheFirstFindingsOnly(t *testing.T) {
	h := newHarness(t)
	for i := range 7 {
		h.seed(t, fmt.Sprint(i), at(24, 1+i, 0), amPost(t, fmt.Sprintf("[FIRING:1] Alert%d (warning)", i)))
	}
	res := h.check(t, Config{}, Options{}).Run(context.Background())
	if len(res.Findings) != 7 {
		t.Fatalf("%d findings, want 7", len(res.Findings))
	}
	if n := len(h.srv.Calls("chat.getPermalink")); n != permalinkFindings {
		t.Errorf("%d chat.getPermalink calls, want %d", n, permalinkFindings)
	}
	// Same severity and count: ordered by title, Alert0 first.
	for i, f := range res.Findings {
		want := h.permalink(fmt.Sprint(i))
		if i >= permalinkFindings {
			want = "https://slack.com/archives/C000ALERT/p" + strings.ReplaceAll(h.tsOf[fmt.Sprint(i)], ".", "")
		}
		if f.Link != want {
			t.Errorf("finding %d (%s) link = %s, want %s", i, f.Title, f.Link, want)
		}
	}
}

func TestSlackErrors(t *testing.T) {
	tests := []struct {
		code string
		want string
	}{
		{"not_in_channel", "the bot is not in channel C000ALERT (not_in_channel): /invite @opsbot in that channel"},
		{"channel_not_found", "channel C000ALERT not found (channel_not_found): check the channel ID; for a private channel, /invite @opsbot first"},
		{"missing_scope", "the Slack app lacks the scope to read channel C000ALERT (missing_scope, needs channels:history (groups:history for a private channel)): add it under OAuth & Permissions and reinstall the app"},
		{"invalid_auth", "Slack refused the bot token (invalid_auth) reading channel C000ALERT: check SLACK_BOT_TOKEN"},
		{"fatal_error", "Slack error reading channel C000ALERT: fatal_error"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			h := newHarness(t)
			h.srv.FailNext("conversations.history", tt.code, 1)
			res := h.check(t, Config{}, Options{}).Run(context.Background())
			if res.Status != checks.Unknown || res.Summary != tt.want {
				t.Errorf("got %v %q\nwant unknown %q", res.Status, res.Summary, tt.want)
			}
		})
	}
}

func TestBotRemovedFromChannel(t *testing.T) {
	h := newHarness(t)
	if err := h.srv.SetChannelMembers(slacktest.DefaultAlertsChannelID, []string{slacktest.DefaultAliceID}); err != nil {
		t.Fatal(err)
	}
	res := h.check(t, Config{}, Options{BotName: "ops-bot"}).Run(context.Background())
	if res.Status != checks.Unknown || !strings.Contains(res.Summary, "/invite @ops-bot") {
		t.Errorf("got %v %q", res.Status, res.Summary)
	}
}

func TestRateLimited(t *testing.T) {
	t.Run("retried after Retry-After", func(t *testing.T) {
		h := newHarness(t)
		h.seed(t, "", at(24, 8, 0), amPost(t, "[FIRING:1] HighLatency (warning)"))
		h.srv.RateLimitNext("conversations.history", 1, 2*time.Second)
		c := h.check(t, Config{}, Options{})
		var waited []time.Duration
		c.wait = func(_ context.Context, d time.Duration) error { waited = append(waited, d); return nil }
		res := c.Run(context.Background())
		if res.Status != checks.Fail || len(res.Findings) != 1 {
			t.Errorf("got %v %q, want the alert after one retry", res.Status, res.Summary)
		}
		if len(waited) != 1 || waited[0] != 2*time.Second {
			t.Errorf("waited %v, want [2s]", waited)
		}
	})
	t.Run("gives up", func(t *testing.T) {
		h := newHarness(t)
		h.srv.RateLimitNext("conversations.history", 10, time.Second)
		c := h.check(t, Config{}, Options{})
		c.wait = func(context.Context, time.Duration) error { return nil }
		res := c.Run(context.Background())
		want := "Slack rate-limited reading channel C000ALERT (conversations.history; retry after 1s)"
		if res.Status != checks.Unknown || res.Summary != want {
			t.Errorf("got %v %q, want unknown %q", res.Status, res.Summary, want)
		}
		if n := len(h.srv.Calls("conversations.history")); n != 1+maxRateLimitRetries {
			t.Errorf("%d calls, want %d", n, 1+maxRateLimitRetries)
		}
	})
	t.Run("not past the deadline", func(t *testing.T) {
		h := newHarness(t)
		h.srv.RateLimitNext("conversations.history", 1, 45*time.Second)
		c := h.check(t, Config{}, Options{}) // timeout 30s < Retry-After
		c.wait = func(context.Context, time.Duration) error { t.Error("waited past the deadline"); return nil }
		if res := c.Run(context.Background()); res.Status != checks.Unknown || !strings.Contains(res.Summary, "rate-limited") {
			t.Errorf("got %v %q", res.Status, res.Summary)
		}
	})
}

// failingAfter lets n history calls through, then fails.
type failingAfter struct {
	History
	mu sync.Mutex
	n  int
}

func (f *failingAfter) GetConversationHistoryContext(ctx context.Context, p *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error) {
	f.mu.Lock()
	f.n--
	fail := f.n < 0
	f.mu.Unlock()
	if fail {
		return nil, slack.SlackErrorResponse{Err: "internal_error"}
	}
	return f.History.GetConversationHistoryContext(ctx, p)
}

func TestPartialRead(t *testing.T) {
	h := newHarness(t)
	seedMany(t, h, 250)
	c, err := New(&failingAfter{History: h.api, n: 1}, Config{Channel: slacktest.DefaultAlertsChannelID},
		Options{Now: func() time.Time { return now }, Location: london, Since: func(context.Context) (time.Time, error) { return since, nil }})
	if err != nil {
		t.Fatal(err)
	}
	res := c.Run(context.Background())
	if res.Status != checks.Unknown {
		t.Errorf("status = %v, want unknown", res.Status)
	}
	want := "Slack error reading channel C000ALERT: internal_error; before that: 200 posts since 09:30 yesterday: 1 alert (1 still firing)"
	if res.Summary != want {
		t.Errorf("summary = %q\nwant        %q", res.Summary, want)
	}
	if len(res.Findings) != 1 || res.Findings[0].Count != 200 {
		t.Errorf("findings = %+v, want the 200 posts read", res.Findings)
	}
	// The wrapper has no GetPermalinkContext: archive links.
	if !strings.HasPrefix(res.Findings[0].Link, "https://slack.com/archives/C000ALERT/p") {
		t.Errorf("link = %s", res.Findings[0].Link)
	}
}

func TestCancelled(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := h.check(t, Config{}, Options{}).Run(ctx)
	if res.Status != checks.Unknown || res.Summary != "could not read channel C000ALERT from Slack: cancelled" {
		t.Errorf("got %v %q", res.Status, res.Summary)
	}
}

func TestNewValidates(t *testing.T) {
	h := newHarness(t)
	if _, err := New(h.api, Config{Channel: "#alerts"}, Options{}); err == nil || !strings.HasPrefix(err.Error(), "channel: ") {
		t.Errorf("New with a channel name: err = %v", err)
	}
	if _, err := New(nil, Config{Channel: "C1234"}, Options{}); err == nil {
		t.Error("New with a nil client: no error")
	}
	c, err := New(h.api, Config{Channel: " C1234 "}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != "alertschannel" || c.Timeout() != DefaultTimeout {
		t.Errorf("name %q timeout %s", c.Name(), c.Timeout())
	}
}

func TestConfigValidate(t *testing.T) {
	valid := func() Config {
		c := Config{Channel: "C0123ABCD"}
		c.SetDefaults()
		return c
	}
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"defaults", func(*Config) {}, ""},
		{"private channel", func(c *Config) { c.Channel = "G0123ABCD" }, ""},
		{"trusted bots", func(c *Config) { c.AlertBots = []string{"B0AM00001", "alertmanager"} }, ""},
		{"no channel", func(c *Config) { c.Channel = "" }, "channel: required: the ID of the alerts channel, e.g. C0123ABCD"},
		{"channel name", func(c *Config) { c.Channel = "#alerts" }, `channel: must be a channel ID like C0123ABCD (in Slack: channel name > About), not "#alerts"`},
		{"lower-case name", func(c *Config) { c.Channel = "alerts" }, `channel: must be a channel ID like C0123ABCD (in Slack: channel name > About), not "alerts"`},
		{"zero window", func(c *Config) { c.Window = 0 }, "window: must be positive, got 0s"},
		{"negative window", func(c *Config) { c.Window = model.Duration(-time.Hour) }, "window: must be positive, got -1h"},
		{"zero maxMessages", func(c *Config) { c.MaxMessages = 0 }, "maxMessages: must be between 1 and 20000, got 0"},
		{"huge maxMessages", func(c *Config) { c.MaxMessages = 50000 }, "maxMessages: must be between 1 and 20000, got 50000"},
		{"zero timeout", func(c *Config) { c.Timeout = 0 }, "timeout: must be positive, got 0s"},
		{"empty alert bot", func(c *Config) { c.AlertBots = []string{"B1", " "} }, "alertBots[1]: must not be empty"},
		{"empty exception bot", func(c *Config) { c.ExceptionBots = []string{""} }, "exceptionBots[0]: must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.modify(&c)
			err := c.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSetDefaults(t *testing.T) {
	var c Config
	c.SetDefaults()
	if time.Duration(c.Window) != 24*time.Hour || c.MaxMessages != 1000 || time.Duration(c.Timeout) != 30*time.Second {
		t.Errorf("defaults = %+v", c)
	}
}

func TestSinceText(t *testing.T) {
	tests := []struct {
		start time.Time
		want  string
	}{
		{at(24, 8, 0), "08:00"},
		{at(23, 9, 30), "09:30 yesterday"},
		{at(20, 9, 30), "Fri 09:30"},
		{at(2, 9, 30), "2 Nov 09:30"},
		{time.Date(2025, 12, 31, 9, 30, 0, 0, london), "31 Dec 2025 09:30"},
	}
	for _, tt := range tests {
		if got := sinceText(tt.start, now, london); got != tt.want {
			t.Errorf("sinceText(%s) = %q, want %q", tt.start, got, tt.want)
		}
	}
}

func TestArchiveLinkAndTS(t *testing.T) {
	if got := ArchiveLink("C000ALERT", "1764000000.000100"); got != "https://slack.com/archives/C000ALERT/p1764000000000100" {
		t.Errorf("ArchiveLink = %s", got)
	}
	ts := slackTS(time.Unix(1764000000, 123456000))
	if ts != "1764000000.123456" {
		t.Errorf("slackTS = %s", ts)
	}
	if back, ok := tsTime(ts); !ok || !back.Equal(time.Unix(1764000000, 123456000)) {
		t.Errorf("tsTime(%s) = %v, %v", ts, back, ok)
	}
}
