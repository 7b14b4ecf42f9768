package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/store/sqlite"
)

// `opsbot serve` with bot.slack.allowedChannels: /ops in another channel is
// refused with where to use it, and the refusal reaches the store and
// /metrics. (The config keys reach the bot.)
func TestServeRefusesOutsideTheAllowedChannels(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fs := newServeFake(t)
	dbPath := filepath.Join(t.TempDir(), "opsbot.db")
	cfg := fmt.Sprintf(`
environments:
  prod:
    namespaces: [shop]
bot:
  slack:
    apiURL: %s
    devChannel: %s
    deciders: {users: [%s]}
    allowedChannels: [C0000SRE1]
  store:
    sqlite: {path: %s}
  health:
    listen: 127.0.0.1:0
`, fs.APIURL(), serveDevChannel, slacktest.DefaultAliceID, dbPath)
	cfgPath := filepath.Join(t.TempDir(), "opsbot.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, fs, cfgPath, "")
	s.waitConnected(t, ctx)

	if _, err := fs.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/ops", Text: "checklist", ChannelID: slacktest.DefaultOpsChannelID}); err != nil {
		t.Fatal(err)
	}
	told := fs.Ephemerals(slacktest.DefaultAliceID)
	if want := "use `/ops` in <#C0000SRE1>, <#" + serveDevChannel + ">"; len(told) != 1 || !strings.Contains(told[0].Text, want) {
		t.Errorf("alice was told %+v, want %q", told, want)
	}
	if !s.stderr.waitFor(ctx, "refusal recorded") {
		t.Fatalf("no refusal recorded:\n%s", s.stderr)
	}
	db, err := sqlite.Open(ctx, dbPath, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Refusals(ctx, time.Time{}, 0)
	if err != nil || len(got) != 1 || got[0].Channel != slacktest.DefaultOpsChannelID || got[0].Reason != "channel" {
		t.Errorf("refusals = %+v, %v", got, err)
	}
	addr, err := s.health.Addr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, body := httpGet(t, "http://"+addr+"/metrics"); !strings.Contains(body, `opsbot_refusals_total{reason="channel"} 1`) {
		t.Errorf("/metrics does not count the refusal:\n%s", body)
	}
	if n := len(fs.Messages(slacktest.DefaultOpsChannelID)); n != 0 {
		t.Errorf("%d messages posted in a disallowed channel", n)
	}
	s.cancel()
	if code := s.exitCode(t, ctx); code != exitOK {
		t.Errorf("exit code %d", code)
	}
}
