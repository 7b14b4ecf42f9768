package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/internal/config"
	"github.com/opsbot/opsbot/schedule"
)

// memRuns is a checklist.RunLog in memory whose last recorded run is
// Monday 5 January 2026 at 09:30 UTC.
type memRuns struct{ *schedule.MemoryClaimer }

var _ checklist.RunLog = memRuns{}

func (memRuns) LastClaim(context.Context, string) (string, time.Time, error) {
	return "checklist-done/prod/2026-01-05T09:30Z", time.Time{}, nil
}

func parseConfig(t *testing.T, doc string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const scheduleBase = `
environments:
  prod: {namespaces: [shop]}
bot:
  slack: {devChannel: C0DEV, opsChannel: C0OPS, deciders: {users: [U0ALICE]}}
`

func TestScheduleFromConfig(t *testing.T) {
	runs := memRuns{schedule.NewMemoryClaimer()}
	noEnv := func(string) string { return "" }
	log := zap.NewNop()

	for _, doc := range []string{scheduleBase, scheduleBase + "  schedule: {enabled: false}\n"} {
		if parseConfig(t, doc).Bot.Schedule.On() {
			t.Errorf("no schedule, yet it is on:\n%s", doc)
		}
	}

	cfg := parseConfig(t, scheduleBase+"  schedule: {mention: S0ROTA, cron: \"0 8 * * *\", timezone: Europe/Paris}\n")
	s, err := scheduledChecklist(cfg, runs)
	if err != nil {
		t.Fatal(err)
	}
	if s.Environment != "prod" || s.Channel != "C0OPS" || s.Mention != "S0ROTA" || s.Location.String() != "Europe/Paris" || s.Runs == nil {
		t.Errorf("scheduled = %+v", s)
	}
	if c := cfg.Bot.Schedule.Config(); c.Schedule != "0 8 * * *" {
		t.Errorf("cron = %q", c.Schedule)
	}
	el, err := scheduleElector(cfg, noEnv, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := el.(schedule.AlwaysLeader); !ok {
		t.Errorf("outside a cluster: elector %T, want AlwaysLeader", el)
	}

	// In a pod (KUBERNETES_SERVICE_HOST), leader election is on by
	// default; this process is not in a pod, so the in-cluster config
	// fails and says so.
	inPod := func(k string) string { return map[string]string{envKubernetesHost: "10.0.0.1"}[k] }
	if _, err := scheduleElector(cfg, inPod, log); err == nil || !strings.Contains(err.Error(), "bot.schedule.leaderElection") {
		t.Errorf("in a pod without its service account: %v", err)
	}

	// Enabled outside a cluster: the kubeconfig, and the namespace must
	// be given.
	kubeconfig := writeKubeconfig(t, "https://127.0.0.1:1")
	t.Setenv("KUBECONFIG", kubeconfig)
	t.Setenv("POD_NAMESPACE", "")
	cfg = parseConfig(t, scheduleBase+"  schedule: {leaderElection: {enabled: true}}\n")
	if _, err := scheduleElector(cfg, noEnv, log); err == nil || !strings.Contains(err.Error(), "bot.schedule.leaderElection.namespace") {
		t.Errorf("no namespace outside a cluster: %v", err)
	}
	cfg = parseConfig(t, scheduleBase+"  schedule: {leaderElection: {enabled: true, namespace: opsbot}}\n")
	if el, err = scheduleElector(cfg, noEnv, log); err != nil {
		t.Fatal(err)
	}
	if _, ok := el.(*schedule.LeaseElector); !ok {
		t.Errorf("elector %T, want a LeaseElector", el)
	}
}

func TestAlertsChannelWiring(t *testing.T) {
	fs := slacktest.New(slacktest.Options{})
	t.Cleanup(fs.Close)
	cfg := parseConfig(t, `
environments:
  prod:
    namespaces: [shop]
    checks:
      pods: {enabled: false}
      logs: {enabled: false}
      alertschannel: {channel: `+slacktest.DefaultAlertsChannelID+`}
  dev: {namespaces: [shop-dev], checks: {pods: {enabled: false}, logs: {enabled: false}}}
defaultEnvironment: prod
bot:
  slack: {apiURL: "`+fs.APIURL()+`", devChannel: C0DEV, opsChannel: C0OPS, deciders: {users: [U0ALICE]}}
  schedule: {}
`)
	prod, dev := cfg.Environments["prod"], cfg.Environments["dev"]
	token := func(k string) string { return map[string]string{envBotToken: fs.Options().BotToken}[k] }
	if alertsChannelSlack(cfg, prod, func(string) string { return "" }) != nil {
		t.Error("no token: want no client (Build says to set SLACK_BOT_TOKEN)")
	}
	if alertsChannelSlack(cfg, dev, token) != nil {
		t.Error("the check is off in dev: want no client")
	}
	api := alertsChannelSlack(cfg, prod, token)
	if api == nil {
		t.Fatal("want a client")
	}

	// serve's factory: the check reads the channel since the last
	// scheduled run the store recorded.
	factory := checklistFactory(cfg, zap.NewNop(), api, memRuns{schedule.NewMemoryClaimer()})
	list, err := factory(context.Background(), "prod")
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Checks) != 1 || list.Checks[0].Name() != "alertschannel" {
		t.Fatalf("checks = %v", list.Checks)
	}
	res := list.Checks[0].Run(context.Background())
	if res.Status != checks.OK || !strings.Contains(res.Summary, "since") {
		t.Errorf("result = %+v", res)
	}
	calls := fs.Calls("conversations.history")
	last := time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC)
	if len(calls) != 1 || calls[0].Args.Get("oldest") != strconv.FormatInt(last.Unix(), 10)+".000000" {
		t.Errorf("history calls = %+v, want one from %v", calls, last)
	}
}

func TestServeRunsTheScheduler(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fs := newServeFake(t)
	cfg := writeServeConfig(t, fs, filepath.Join(t.TempDir(), "opsbot.db"),
		"  schedule: {channel: "+slacktest.DefaultOpsChannelID+", mention: S0ROTA}\n")
	s := startServe(t, fs, cfg, "")
	s.waitConnected(t, ctx)
	for _, want := range []string{"scheduled checklist without leader election", `"msg":"scheduler started"`} {
		// The scheduler is an actor of its own: it may log after the
		// socket has connected.
		if !s.stderr.waitFor(ctx, want) {
			t.Errorf("log lacks %q:\n%s", want, s.stderr)
		}
	}
	s.cancel()
	if code := s.exitCode(t, ctx); code != exitOK {
		t.Errorf("exit %d:\n%s", code, s.stderr)
	}
}

// TestServeRunsTheNoiseWeekly: with bot.noise.weekly, serve runs its
// scheduler, named in the log with its next occurrence.
func TestServeRunsTheNoiseWeekly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fs := newServeFake(t)
	cfg := writeServeConfig(t, fs, filepath.Join(t.TempDir(), "opsbot.db"),
		"  noise: {weekly: {cron: \"0 9 * * MON\", channel: "+slacktest.DefaultOpsChannelID+"}}\n")
	s := startServe(t, fs, cfg, "")
	s.waitConnected(t, ctx)
	if want := `"logger":"noise-weekly","msg":"scheduler started"`; !s.stderr.waitFor(ctx, want) {
		t.Errorf("log lacks %q:\n%s", want, s.stderr)
	}
	s.cancel()
	if code := s.exitCode(t, ctx); code != exitOK {
		t.Errorf("exit %d:\n%s", code, s.stderr)
	}
}

// TestRedactionWiring: the config's redaction block reaches the checklist
// the bot runs (the triage and incident services get the same Redactor in
// assemble).
func TestRedactionWiring(t *testing.T) {
	for _, tt := range []struct{ block, want string }{
		{"", "mail [redacted:email]"},
		{"redaction: {keepEmails: true}\n", "mail ops@example.com"},
	} {
		cfg := parseConfig(t, tt.block+`
environments:
  prod: {namespaces: [shop], checks: {pods: {enabled: false}, logs: {enabled: false}}}
`)
		list, err := checklistFactory(cfg, zap.NewNop(), nil, memRuns{schedule.NewMemoryClaimer()})(context.Background(), "prod")
		if err != nil {
			t.Fatal(err)
		}
		if got := list.Redactor.Text("mail ops@example.com"); got != tt.want {
			t.Errorf("%q: redacted to %q, want %q", tt.block, got, tt.want)
		}
	}
}
