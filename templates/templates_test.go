package templates_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opsbot/opsbot/templates"
)

func newSet(t *testing.T, dir string) *templates.Set {
	t.Helper()
	s, err := templates.New(dir)
	if err != nil {
		t.Fatalf("New(%q): %v", dir, err)
	}
	return s
}

func render(t *testing.T, s *templates.Set, name string, data any) string {
	t.Helper()
	out, err := s.Render(name, data)
	if err != nil {
		t.Fatalf("Render(%s): %v", name, err)
	}
	return out
}

// The runbook's announcement, character for character.
func TestDefaultAnnounceIsTheRunbooks(t *testing.T) {
	s := newSet(t, "")
	got := render(t, s, templates.IncidentAnnounce, templates.Announce{
		From:       "2026-11-24 09:30 GMT",
		UserImpact: "Checkout fails for about 20% of users",
		What:       "payments API returns 502",
	})
	want := "📟 Degraded service\n" +
		"From: 2026-11-24 09:30 GMT\n" +
		"User impact: Checkout fails for about 20% of users\n" +
		"What: payments API returns 502\n" +
		"Investigation in progress."
	if got != want {
		t.Errorf("announce:\n got %q\nwant %q", got, want)
	}
}

func TestDefaultResolvedSuffixIsTheRunbooks(t *testing.T) {
	s := newSet(t, "")
	got := render(t, s, templates.IncidentResolvedSuffix, templates.ResolvedSuffix{Until: "2026-11-24 10:55 GMT"})
	if want := "✅ Resolved\nUntil: 2026-11-24 10:55 GMT"; got != want {
		t.Errorf("resolved suffix:\n got %q\nwant %q", got, want)
	}
}

// Every default renders realistic data, without "<no value>" or a final
// new line (registry_test.go renders every template with its type).
func TestEveryDefaultRenders(t *testing.T) {
	s := newSet(t, "")
	data := map[string]any{
		templates.IncidentAnnounce:       templates.Announce{From: "f", UserImpact: "u", What: "w"},
		templates.IncidentResolvedSuffix: templates.ResolvedSuffix{Until: "u"},
		templates.IncidentUpdate:         templates.Update{Text: "rolled back", By: "<@U1>", At: "2026-11-24 09:40 GMT"},
		templates.IncidentClosing:        templates.Closing{Duration: "1h 25m", From: "a", Until: "b", ResolvedBy: "<@U1>"},
		templates.FollowUpNotEnoughInformation: templates.FollowUp{ToCollect: "heap profile",
			Ticket: "<https://jira/OPS-1|OPS-1>"},
		templates.FollowUpSerious:         templates.FollowUp{UsersAffected: "2% of checkouts", Outage: true},
		templates.FollowUpNoise:           templates.FollowUp{Dashboard: "<https://grafana/d/x|x>"},
		templates.ChecklistScheduledIntro: templates.ChecklistIntro{Environment: "prod", Time: "09:30", Mention: "<!subteam^S1>"},
	}
	for name, d := range data {
		out := render(t, s, name, d)
		if strings.TrimSpace(out) == "" || strings.Contains(out, "<no value>") || strings.HasSuffix(out, "\n") {
			t.Errorf("%s: %q", name, out)
		}
	}
	if got := render(t, s, templates.IncidentClosing, data[templates.IncidentClosing]); got != "✅ Resolved after 1h 25m (by <@U1>)." {
		t.Errorf("closing: %q", got)
	}
	if got := render(t, s, templates.FollowUpSerious, data[templates.FollowUpSerious]); !strings.Contains(got, "It is an outage: announce an incident") {
		t.Errorf("serious follow-up with an outage: %q", got)
	}
}

// The typed API renders a declared template with its own data type.
func TestTypedRender(t *testing.T) {
	s := newSet(t, "")
	got, err := templates.Render(s, templates.ChecklistRunning, templates.Running{Environment: "prod", Checks: 4, AskedBy: "@alice"})
	if want := ":hourglass_flowing_sand: Running the *prod* checklist… (4 checks, asked by @alice)"; err != nil || got != want {
		t.Errorf("checklist.running: %q, %v; want %q", got, err, want)
	}
	if templates.ChecklistRunning.Name() != "checklist.running" {
		t.Errorf("name %q", templates.ChecklistRunning.Name())
	}
	// A text that starts with a space keeps it.
	if got, err := templates.Render(s, templates.TriageCut, templates.NoData{}); err != nil || got != " … full text in the timeline" {
		t.Errorf("triage.cut: %q, %v", got, err)
	}
	// Literal angle brackets are entities in mrkdwn.
	got, err = templates.Render(s, templates.IncidentWhichUpdate, templates.Count{Count: 2})
	if want := "2 incidents are open; say which one: `/ops update &lt;id&gt; &lt;text&gt;`."; err != nil || got != want {
		t.Errorf("incident.whichUpdate: %q, %v", got, err)
	}
	// Only declared Texts render; the zero Text and a nil Set do not.
	if _, err := templates.Render(s, templates.Text[templates.NoData]{}, templates.NoData{}); err == nil {
		t.Error("the zero Text rendered")
	}
	if _, err := templates.Render(nil, templates.OpsBusy, templates.NoData{}); err == nil {
		t.Error("a nil Set rendered")
	}
}

func TestLookup(t *testing.T) {
	f, ok := templates.Lookup[templates.FollowUp]("triage.followup.noise")
	if !ok || f != templates.FollowUpNoiseText {
		t.Errorf("Lookup[FollowUp](triage.followup.noise) = %v, %v", f, ok)
	}
	if _, ok := templates.Lookup[templates.Announce]("triage.followup.noise"); ok {
		t.Error("Lookup with the wrong data type succeeded")
	}
	if _, ok := templates.Lookup[templates.FollowUp]("triage.followup.nope"); ok {
		t.Error("Lookup of an undeclared name succeeded")
	}
}

// Templates do not escape: the data is escaped by the bot already.
func TestNoEscaping(t *testing.T) {
	s := newSet(t, "")
	got := render(t, s, templates.IncidentAnnounce, templates.Announce{From: "x", UserImpact: "a &amp; b", What: "<@U1>"})
	if !strings.Contains(got, "User impact: a &amp; b\nWhat: <@U1>\n") {
		t.Errorf("got %q", got)
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestOverrideReplacesOneTemplate(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"incident.closing.tmpl": "Fixed after {{.Duration}}, thanks {{.ResolvedBy}}!\r\n",
	})
	// A ConfigMap volume's bookkeeping entries are skipped.
	if err := os.Mkdir(filepath.Join(dir, "..2026_11_24"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..2026_11_24", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	s := newSet(t, dir)
	if got := render(t, s, templates.IncidentClosing, templates.Closing{Duration: "5m", ResolvedBy: "<@U1>"}); got != "Fixed after 5m, thanks <@U1>!" {
		t.Errorf("overridden closing: %q", got)
	}
	if src := s.Source(templates.IncidentClosing); src != filepath.Join(dir, "incident.closing.tmpl") {
		t.Errorf("source %q", src)
	}
	// The others are the defaults.
	got := render(t, s, templates.IncidentResolvedSuffix, templates.ResolvedSuffix{Until: "u"})
	if got != "✅ Resolved\nUntil: u" {
		t.Errorf("resolved suffix: %q", got)
	}
}

func TestOverrideThroughSymlink(t *testing.T) {
	dir := writeFiles(t, map[string]string{"real": "Hello {{.Environment}}"})
	if err := os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "checklist.scheduled_intro.tmpl")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "real")); err != nil {
		t.Fatal(err)
	}
	// A dangling link is an error naming it.
	_, err := templates.New(dir)
	if err == nil || !strings.Contains(err.Error(), "checklist.scheduled_intro.tmpl") {
		t.Errorf("dangling link: %v", err)
	}
}

func TestBadOverrides(t *testing.T) {
	for _, tt := range []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{"unknown name", map[string]string{"incident.anounce.tmpl": "x"},
			[]string{"incident.anounce.tmpl", `unknown template "incident.anounce"`}},
		{"not a template file", map[string]string{"incident.announce.tpl": "x"},
			[]string{"incident.announce.tpl", "not a template file"}},
		{"parse error", map[string]string{"incident.announce.tmpl": "line one\nline two {{.From\n"},
			[]string{"incident.announce.tmpl:2:"}},
		{"unknown function", map[string]string{"incident.update.tmpl": "\n\n{{upper .Text}}"},
			[]string{"incident.update.tmpl:3:", `"upper" not defined`}},
		{"misspelt field", map[string]string{"incident.announce.tmpl": "From: {{.From}}\nImpact: {{.Impact}}"},
			[]string{"incident.announce.tmpl:2:", "Impact"}},
		{"two problems", map[string]string{"x.tmpl": "", "incident.closing.tmpl": "{{end}}"},
			[]string{"x.tmpl", "incident.closing.tmpl:1:"}},
		// Every template is checked, the bot's answers as the runbook's.
		{"unknown field in a bot text", map[string]string{"checklist.running.tmpl": "Running {{.Environment}} for {{.Usr}}"},
			[]string{"checklist.running.tmpl:1:", "Usr", "templates.Running"}},
		// A field in a branch the zero value does not take.
		{"unknown field in a branch", map[string]string{"incident.slackReason.tmpl": "{{if .None}}none{{else if .Code}}\n\nSlack said {{.Cod}}{{end}}"},
			[]string{"incident.slackReason.tmpl:3:", "Cod"}},
		{"unknown field in with", map[string]string{"status.line.tmpl": "{{with .Thread}}{{.Link}}{{end}}"},
			[]string{"status.line.tmpl:1:", "Link", "string"}},
		{"unknown field through $", map[string]string{"status.line.tmpl": "{{range $i, $e := .Title}}{{$.Titel}}{{end}}"},
			[]string{"status.line.tmpl:1:", "Titel"}},
		{"fails with data", map[string]string{"checklist.more.tmpl": "{{if .Count}}{{index .Count 1}}{{end}}"},
			[]string{"checklist.more.tmpl:1:", "index"}},
		{"unknown name in a namespace", map[string]string{"triage.opend.tmpl": "x"},
			[]string{"triage.opend.tmpl", `unknown template "triage.opend"`, "triage.opened"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			s, err := templates.New(dir)
			if err == nil {
				t.Fatalf("New succeeded: %v", s)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestMissingOverrideDir(t *testing.T) {
	if _, err := templates.New(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("a missing override directory was accepted")
	}
}

func TestRenderErrors(t *testing.T) {
	s := newSet(t, "")
	if _, err := s.Render("incident.nope", nil); err == nil {
		t.Error("unknown template rendered")
	}
	// The wrong data type is an error, not a half-rendered message: the
	// template was checked against its own type only.
	if _, err := s.Render(templates.IncidentAnnounce, templates.Closing{}); err == nil {
		t.Error("rendered with the wrong data type")
	}
	if _, err := s.Render(templates.IncidentResolvedSuffix, map[string]string{"Until": "u"}); err == nil {
		t.Error("rendered with a map")
	}
}
