package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/bot/slacktest"
	"github.com/opsbot/opsbot/health"
	"github.com/opsbot/opsbot/store/postgres"
	"github.com/opsbot/opsbot/store/postgres/pgtest"
	"github.com/opsbot/opsbot/store/sqlite"
	"github.com/opsbot/opsbot/store/storetest"
)

// openSeedStore opens an empty store of kind, "sqlite" or "postgres" (a
// real PostgreSQL started for the test, skipped with -short), for the test
// to seed and close. It returns the bot.store YAML that opens the same
// store again and the environment that YAML reads.
func openSeedStore(t *testing.T, ctx context.Context, kind string) (seeded storetest.Store, storeYAML string, env map[string]string) {
	t.Helper()
	env = map[string]string{}
	if kind == "sqlite" {
		path := filepath.Join(t.TempDir(), "opsbot.db")
		db, err := sqlite.Open(ctx, path, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		return db, fmt.Sprintf("sqlite: {path: %s}", path), env
	}
	if testing.Short() {
		t.Skip("integration test: PostgreSQL")
	}
	pg, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		t.Fatalf("this test needs a real PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = pg.Stop() })
	dsn, err := pg.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, dsn, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	env["OPSBOT_TEST_DSN"] = dsn
	return db, "postgres: {dsnEnv: OPSBOT_TEST_DSN}", env
}

// askServe runs the real `opsbot serve` with cfgPath against fs, sends
// `/ops text` as Alice in the ops channel, waits for the ephemeral answer
// whose text holds marker, stops serve and returns the answer's block
// texts. env gets the fake's tokens.
func askServe(t *testing.T, ctx context.Context, fs *slacktest.Server, cfgPath string, env map[string]string,
	clock func() time.Time, text, marker string) string {
	t.Helper()
	fo := fs.Options()
	env[envAppToken], env[envBotToken] = fo.AppToken, fo.BotToken
	s := &servedBot{code: make(chan int, 1), bot: make(chan *bot.Bot, 1), stderr: &syncBuffer{}}
	sctx, stop := context.WithCancel(ctx)
	go func() {
		s.code <- serve(sctx, []string{"--config", cfgPath}, s.stderr, serveDeps{
			getenv: func(k string) string { return env[k] }, now: clock,
			started: func(b *bot.Bot, _ *health.Server) { s.bot <- b },
		})
	}()
	defer func() { stop(); s.exitCode(t, ctx) }()
	s.waitConnected(t, ctx)
	if _, err := fs.SendSlashCommand(ctx, slacktest.SlashCommand{Command: "/ops", Text: text,
		ChannelID: slacktest.DefaultOpsChannelID}); err != nil {
		t.Fatal(err)
	}
	var shown string
	err := fs.WaitFor(ctx, func() bool {
		for _, e := range fs.Ephemerals(slacktest.DefaultAliceID) {
			if strings.Contains(e.Text, marker) {
				shown = blockTexts(t, e.Blocks)
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no answer to /ops %s in Slack: %v\n%s", text, err, s.stderr)
	}
	return shown
}
