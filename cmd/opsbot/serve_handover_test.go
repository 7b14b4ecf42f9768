package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/slacktest"
)

// TestServeHandover: with a bot.handover block, the real program posts
// `/ops handover` in the configured channel, mentioning who comes on
// shift, with the checklist that just ran and who asked for it; and
// publishes the App Home tab when a user opens it.
func TestServeHandover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fs := newServeFake(t)
	ops := slacktest.DefaultOpsChannelID
	cfg := writeServeConfig(t, fs, filepath.Join(t.TempDir(), "opsbot.db"),
		"  handover: {channel: "+ops+", mention: S0000ROTA}\n")
	s := startServe(t, fs, cfg, "")
	s.waitConnected(t, ctx)

	if _, err := fs.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/ops", Text: "checklist", ChannelID: ops}); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.WaitForMessage(ctx, ops, func(m slacktest.Message) bool {
		return strings.Contains(m.AllText(), "*Checklist prod*")
	}); err != nil {
		t.Fatalf("no report: %v\n%s", err, s.stderr)
	}
	if _, err := fs.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/ops", Text: "handover", ChannelID: ops}); err != nil {
		t.Fatal(err)
	}
	m, err := fs.WaitForMessage(ctx, ops, func(m slacktest.Message) bool { return strings.Contains(m.AllText(), "*Handover*") })
	if err != nil {
		t.Fatalf("no handover: %v\n%s", err, s.stderr)
	}
	for _, want := range []string{"<!subteam^S0000ROTA>", "*Last checklist*: *prod*", "asked by @alice: fail, 1 finding",
		"1 new fingerprint", "CrashLoopBackOff &lt;!channel&gt;"} {
		if !strings.Contains(m.AllText(), want) {
			t.Errorf("the handover does not say %q:\n%s", want, m.AllText())
		}
	}

	if _, err := fs.SendAppHomeOpened(ctx, slacktest.DefaultBobID); err != nil {
		t.Fatal(err)
	}
	if err := fs.WaitFor(ctx, func() bool { _, ok := fs.HomeView(slacktest.DefaultBobID); return ok }); err != nil {
		t.Fatalf("no Home tab: %v\n%s", err, s.stderr)
	}
	s.cancel()
	if code := s.exitCode(t, ctx); code != exitOK {
		t.Errorf("exit %d:\n%s", code, s.stderr)
	}
}
