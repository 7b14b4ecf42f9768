package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/health"
)

// The end-to-end tests of `opsbot serve`: the real program, in-process,
// with slack-go's socketmode client talking to a fake Slack, a SQLite file
// and fake checks.

const serveDevChannel = "C0000DEV1"

type serveCheck struct{}

func (serveCheck) Name() string { return "pods" }
func (serveCheck) Run(context.Context) checks.Result {
	f := checks.Finding{Fingerprint: "pods/shop/api/CrashLoopBackOff", Severity: checks.Fail,
		Object: "Deployment shop/api", Title: "CrashLoopBackOff <!channel>"}
	return checks.Result{Status: checks.Fail, Summary: "1 pod crash-looping", Findings: []checks.Finding{f}}
}

func newServeFake(t *testing.T) *slacktest.Server {
	members := []string{slacktest.DefaultAliceID, slacktest.DefaultBobID, slacktest.DefaultBotUserID}
	fs := slacktest.New(slacktest.Options{Channels: []slacktest.Channel{
		{ID: slacktest.DefaultOpsChannelID, Name: "ops", Members: members},
		{ID: serveDevChannel, Name: "dev", Members: members},
	}})
	t.Cleanup(fs.Close)
	return fs
}

func writeServeConfig(t *testing.T, fs *slacktest.Server, dbPath, extra string) string {
	t.Helper()
	return writeServeConfigStore(t, fs, fmt.Sprintf("sqlite: {path: %s}", dbPath), extra)
}

// writeServeConfigStore writes the config of the serve tests with the
// given bot.store value (YAML flow style) and extra lines.
func writeServeConfigStore(t *testing.T, fs *slacktest.Server, storeYAML, extra string) string {
	t.Helper()
	cfg := fmt.Sprintf(`
environments:
  prod:
    namespaces: [shop]
bot:
  slack:
    apiURL: %s
    devChannel: %s
    deciders: {users: [%s]}
  store:
    %s
  health:
    listen: 127.0.0.1:0
%s`, fs.APIURL(), serveDevChannel, slacktest.DefaultAliceID, storeYAML, extra)
	p := filepath.Join(t.TempDir(), "opsbot.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// syncBuffer is stderr, written by the logger while the test reads it.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // closed and replaced on every write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written != nil {
		close(s.written)
		s.written = nil
	}
	return s.b.Write(p)
}

// waitFor waits until the buffer contains want, or ctx is done.
func (s *syncBuffer) waitFor(ctx context.Context, want string) bool {
	for {
		s.mu.Lock()
		if strings.Contains(s.b.String(), want) {
			s.mu.Unlock()
			return true
		}
		if s.written == nil {
			s.written = make(chan struct{})
		}
		written := s.written
		s.mu.Unlock()
		select {
		case <-written:
		case <-ctx.Done():
			return false
		}
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// servedBot is a running `opsbot serve`.
type servedBot struct {
	cancel context.CancelFunc
	code   chan int
	bot    chan *bot.Bot
	stderr *syncBuffer
	// health is the health server, set before the bot is sent on bot.
	health *health.Server
}

func startServe(t *testing.T, fs *slacktest.Server, configPath, appToken string) *servedBot {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &servedBot{cancel: cancel, code: make(chan int, 1), bot: make(chan *bot.Bot, 1), stderr: &syncBuffer{}}
	fo := fs.Options()
	if appToken == "" {
		appToken = fo.AppToken
	}
	env := map[string]string{envAppToken: appToken, envBotToken: fo.BotToken}
	deps := serveDeps{
		getenv: func(k string) string { return env[k] },
		checklist: func(context.Context, string) (bot.Checklist, error) {
			return bot.Checklist{Checks: []checks.Check{serveCheck{}}, Timeout: 10 * time.Second}, nil
		},
		started: func(b *bot.Bot, h *health.Server) { s.health = h; s.bot <- b },
	}
	go func() { s.code <- serve(ctx, []string{"--config", configPath, "--log-level", "debug"}, s.stderr, deps) }()
	t.Cleanup(cancel)
	return s
}

func (s *servedBot) waitConnected(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case b := <-s.bot:
		if err := b.WaitConnected(ctx); err != nil {
			t.Fatalf("not connected: %v\n%s", err, s.stderr)
		}
	case code := <-s.code:
		t.Fatalf("serve exited with %d:\n%s", code, s.stderr)
	case <-ctx.Done():
		t.Fatalf("serve did not start:\n%s", s.stderr)
	}
}

func (s *servedBot) exitCode(t *testing.T, ctx context.Context) int {
	t.Helper()
	select {
	case code := <-s.code:
		return code
	case <-ctx.Done():
		t.Fatalf("serve did not exit:\n%s", s.stderr)
		return -1
	}
}

func TestServeEndToEndAndRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fs := newServeFake(t)
	dbPath := filepath.Join(t.TempDir(), "opsbot.db")
	cfg := writeServeConfig(t, fs, dbPath, "")

	s := startServe(t, fs, cfg, "")
	s.waitConnected(t, ctx)
	// Connected to Slack, the store reachable: ready.
	addr, err := s.health.Addr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := httpGet(t, "http://"+addr+p); code != http.StatusOK {
			t.Errorf("%s = %d %s", p, code, body)
		}
	}
	if _, err := fs.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/ops", Text: "checklist", ChannelID: slacktest.DefaultOpsChannelID}); err != nil {
		t.Fatal(err)
	}
	rep, err := fs.WaitForMessage(ctx, slacktest.DefaultOpsChannelID, func(m slacktest.Message) bool {
		return strings.Contains(m.AllText(), "*Checklist prod*")
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rep.AllText(), "<!channel>") {
		t.Errorf("the report mentions the channel:\n%s", rep.AllText())
	}
	if _, err := fs.ClickButton(ctx, slacktest.ButtonClick{Channel: slacktest.DefaultOpsChannelID, MessageTS: rep.TS,
		ActionID: bot.ActionInvestigate, BlockID: "finding/0"}); err != nil {
		t.Fatal(err)
	}
	root, err := fs.WaitForMessage(ctx, serveDevChannel, func(m slacktest.Message) bool { return strings.Contains(m.AllText(), "is looking at") })
	if err != nil {
		t.Fatal(err)
	}
	// Its own telemetry, scraped as Prometheus would, says what happened.
	code, metrics := httpGet(t, "http://"+addr+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`opsbot_build_info{version=`,
		"opsbot_slack_connected 1",
		`opsbot_checklist_runs_total{environment="prod",outcome="reported",trigger="command"} 1`,
		`opsbot_check_results_total{check="pods",environment="prod",status="fail"} 1`,
		`opsbot_findings_total{environment="prod",severity="fail"} 1`,
		`opsbot_slack_envelopes_total{type="slash_command"} 1`,
		`opsbot_slack_envelopes_total{type="block_actions"} 1`,
		`opsbot_slack_ack_latency_seconds_count{type="slash_command"} 1`,
		`opsbot_slack_api_calls_total{method="auth.test",outcome="ok"} 1`,
		`opsbot_slack_api_calls_total{method="chat.postMessage",outcome="ok"}`,
		`opsbot_checklist_last_reported_timestamp_seconds{environment="prod",trigger="command"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", metrics)
	}
	// SIGTERM: a clean exit.
	s.cancel()
	if code := s.exitCode(t, ctx); code != exitOK {
		t.Fatalf("exit %d after the signal:\n%s", code, s.stderr)
	}
	for _, secret := range []string{fs.Options().AppToken, fs.Options().BotToken} {
		if strings.Contains(s.stderr.String(), secret) {
			t.Fatal("a token was logged")
		}
	}

	// A new process on the same file knows the thread.
	s2 := startServe(t, fs, cfg, "")
	s2.waitConnected(t, ctx)
	before := len(fs.Ephemerals(slacktest.DefaultAliceID))
	if _, err := fs.ClickButton(ctx, slacktest.ButtonClick{Channel: slacktest.DefaultOpsChannelID, MessageTS: rep.TS,
		ActionID: bot.ActionInvestigate, BlockID: "finding/0"}); err != nil {
		t.Fatal(err)
	}
	// The report's findings are in the store: the restarted process finds
	// the finding, and its anomaly's thread.
	if err := fs.WaitFor(ctx, func() bool { return len(fs.Ephemerals(slacktest.DefaultAliceID)) > before }); err != nil {
		t.Fatal(err)
	}
	if e := fs.Ephemerals(slacktest.DefaultAliceID)[before]; !strings.Contains(e.Text, "already being investigated") {
		t.Errorf("Investigate after a restart: told %q", e.Text)
	}
	if _, err := fs.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/ops", Text: "status", ChannelID: slacktest.DefaultOpsChannelID}); err != nil {
		t.Fatal(err)
	}
	if err := fs.WaitFor(ctx, func() bool {
		for _, e := range fs.Ephemerals(slacktest.DefaultAliceID) {
			if strings.Contains(string(e.Blocks), "CrashLoopBackOff") && strings.Contains(string(e.Blocks), "|thread") {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("status after a restart: %v\n%+v", err, fs.Ephemerals(slacktest.DefaultAliceID))
	}
	if n := len(fs.Messages(serveDevChannel)); n != 1 || fs.Messages(serveDevChannel)[0].TS != root.TS {
		t.Errorf("%d threads after the restart", n)
	}
	s2.cancel()
	if code := s2.exitCode(t, ctx); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, s2.stderr)
	}
}

func TestServeStopsOnRefusedTokenAndLinkDisabled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fs := newServeFake(t)
	cfg := writeServeConfig(t, fs, filepath.Join(t.TempDir(), "opsbot.db"), "")

	bad := startServe(t, fs, cfg, "xapp-1-A00000001-1-notthetoken")
	if code := bad.exitCode(t, ctx); code != exitProblems {
		t.Fatalf("exit %d with a refused app token, want %d:\n%s", code, exitProblems, bad.stderr)
	}
	if !strings.Contains(bad.stderr.String(), "invalid_auth") || strings.Contains(bad.stderr.String(), "notthetoken") {
		t.Errorf("stderr:\n%s", bad.stderr)
	}

	s := startServe(t, fs, cfg, "")
	s.waitConnected(t, ctx)
	fs.Disconnect(slacktest.ReasonLinkDisabled)
	if code := s.exitCode(t, ctx); code != exitOK {
		t.Fatalf("exit %d after link_disabled:\n%s", code, s.stderr)
	}
	if !strings.Contains(s.stderr.String(), "link_disabled") {
		t.Errorf("stderr does not say why:\n%s", s.stderr)
	}
}

func TestServeConfigErrors(t *testing.T) {
	fs := newServeFake(t)
	dir := t.TempDir()
	noBot := filepath.Join(dir, "nobot.yaml")
	if err := os.WriteFile(noBot, []byte("environments:\n  prod: {namespaces: [shop]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	env := map[string]string{envAppToken: "xapp-1", envBotToken: "xoxb-1"}
	deps := serveDeps{getenv: func(k string) string { return env[k] }}
	if code := serve(context.Background(), []string{"--config", noBot}, &stderr, deps); code != exitUsage || !strings.Contains(stderr.String(), "bot block") {
		t.Errorf("no bot block: exit %d\n%s", code, stderr.String())
	}
	cfg := writeServeConfig(t, fs, filepath.Join(dir, "opsbot.db"), "")
	stderr = syncBuffer{}
	deps.getenv = func(k string) string { return map[string]string{envAppToken: "xoxb-wrong-kind"}[k] }
	code := serve(context.Background(), []string{"--config", cfg}, &stderr, deps)
	if code != exitUsage || !strings.Contains(stderr.String(), "SLACK_APP_TOKEN is not an app-level token") ||
		!strings.Contains(stderr.String(), "SLACK_BOT_TOKEN is not set") || strings.Contains(stderr.String(), "xoxb-wrong-kind") {
		t.Errorf("bad tokens: exit %d\n%s", code, stderr.String())
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeWaitsForTheStoreAndSlack: started while its store cannot be
// opened and Slack answers errors, serve stays up, not ready, and retries;
// once both are there it connects and is ready. Nothing is written before.
func TestServeWaitsForTheStoreAndSlack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fs := newServeFake(t)
	fs.FailNext("auth.test", "internal_error", 2)
	dataDir := filepath.Join(t.TempDir(), "not-yet")
	cfg := writeServeConfig(t, fs, filepath.Join(dataDir, "opsbot.db"), "")

	fo := fs.Options()
	env := map[string]string{envAppToken: fo.AppToken, envBotToken: fo.BotToken}
	healthCh, botCh, code := make(chan *health.Server, 1), make(chan *bot.Bot, 1), make(chan int, 1)
	stderr := &syncBuffer{}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		code <- serve(sctx, []string{"--config", cfg}, stderr, serveDeps{
			getenv: func(k string) string { return env[k] },
			checklist: func(context.Context, string) (bot.Checklist, error) {
				return bot.Checklist{Checks: []checks.Check{serveCheck{}}, Timeout: 10 * time.Second}, nil
			},
			retry:   backoff{initial: 20 * time.Millisecond, max: 100 * time.Millisecond},
			health:  func(h *health.Server) { healthCh <- h },
			started: func(b *bot.Bot, _ *health.Server) { botCh <- b },
		})
	}()
	hs := <-healthCh
	addr, err := hs.Addr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The store's directory does not exist: it retries, alive, not ready.
	if !stderr.waitFor(ctx, `"msg":"opening the store failed; retrying","attempt":2`) {
		t.Fatalf("no retries of the store:\n%s", stderr)
	}
	if c, _ := httpGet(t, "http://"+addr+"/healthz"); c != http.StatusOK {
		t.Errorf("/healthz = %d while the store is missing, want 200 (alive)", c)
	}
	if c, body := httpGet(t, "http://"+addr+"/readyz"); c != http.StatusServiceUnavailable || !strings.Contains(body, "not ready") {
		t.Errorf("/readyz = %d %q while the store is missing, want 503", c, body)
	}
	select {
	case c := <-code:
		t.Fatalf("serve exited with %d instead of waiting:\n%s", c, stderr)
	default:
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Then Slack's auth.test fails twice (internal_error): retried too.
	var b *bot.Bot
	select {
	case b = <-botCh:
	case c := <-code:
		t.Fatalf("serve exited with %d:\n%s", c, stderr)
	case <-ctx.Done():
		t.Fatalf("serve did not come up:\n%s", stderr)
	}
	if err := b.WaitConnected(ctx); err != nil {
		t.Fatalf("not connected: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "checking the Slack bot token failed; retrying") {
		t.Errorf("auth.test's errors were not retried:\n%s", stderr)
	}
	// Connected, the store open: ready.
	if c, body := httpGet(t, "http://"+addr+"/readyz"); c != http.StatusOK {
		t.Errorf("/readyz = %d %q once the store and Slack are there, want 200", c, body)
	}
	stop()
	if c := <-code; c != exitOK {
		t.Errorf("exit %d after the signal, want 0:\n%s", c, stderr)
	}
}
