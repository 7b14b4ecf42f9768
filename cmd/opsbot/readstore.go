package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/internal/config"
	"github.com/opsbot/opsbot/store"
)

// storeDeps are what the commands that read the bot's store (`opsbot
// noise`, `opsbot history`) take from the process; tests give their own.
type storeDeps struct {
	// getenv reads the environment (the PostgreSQL DSN).
	getenv func(string) string
	// now is the clock: the noise report's period ends now, and history's
	// since: counts back from it.
	now func() time.Time
}

// readStore opens the bot's store (the config's bot.store) for a command
// that only reads it; what names what reads it in the usage error ("the
// search"). A config without a bot block is a usage error. A SQLite file
// that is not there is refused rather than opened: opening SQLite creates
// the file, and reading a mistyped path would report an empty store. On
// failure db is nil and code is the exit code, the reason already said.
func (p *prologue) readStore(ctx context.Context, cfg *config.Config, what string, deps storeDeps, logger *zap.Logger) (db *store.DB, closeStore func(), code int) {
	if cfg.Bot == nil {
		return nil, nil, p.usageError("the config file %s has no bot block: %s reads the bot's store (bot.store)", *p.config, what)
	}
	if st := cfg.Bot.Store; st.Postgres == nil {
		if _, err := os.Stat(st.SQLite.Path); err != nil {
			fmt.Fprintf(p.stderr, "%s: no store to read: %v\n", p.name, err)
			return nil, nil, exitProblems
		}
	}
	db, closeStore, err := openStore(ctx, cfg.Bot.Store, deps.getenv, logger)
	if err != nil {
		fmt.Fprintf(p.stderr, "%s: opening the store: %v\n", p.name, err)
		return nil, nil, exitProblems
	}
	return db, closeStore, 0
}
