package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/alertschannel"
	"github.com/opsbot/opsbot/internal/config"
	"github.com/opsbot/opsbot/store/postgres"
	"github.com/opsbot/opsbot/store/sqlite"
	"github.com/opsbot/opsbot/triage"
)

// The environment variables holding the Slack tokens.
const (
	envAppToken = "SLACK_APP_TOKEN"
	envBotToken = "SLACK_BOT_TOKEN"
)

// serveDeps are what `opsbot serve` takes from its surroundings; the
// end-to-end tests replace them to run the real program in-process.
type serveDeps struct {
	// getenv reads the environment (tokens, the PostgreSQL DSN).
	getenv func(string) string
	// checklist, if set, replaces the checks built from the config (so
	// tests need no Kubernetes).
	checklist bot.ChecklistFactory
	// started, if set, is called with the bot once it runs.
	started func(*bot.Bot)
}

func runServe(ctx context.Context, args []string, stderr io.Writer) int {
	return serve(ctx, args, stderr, serveDeps{getenv: os.Getenv})
}

// serve is `opsbot serve`: the Slack bot, until ctx is done (SIGTERM) or
// Slack refuses it. Exit status: 0 after a clean stop (a signal, or Slack
// disabling the app's Socket Mode link), 1 when the bot fails (tokens
// refused, store unreachable), 2 for usage and configuration errors.
func serve(ctx context.Context, args []string, stderr io.Writer, deps serveDeps) int {
	p := newPrologue("opsbot serve", fmt.Sprintf("Usage: opsbot serve [flags]\n\n"+
		"Runs the Slack bot (Socket Mode). The tokens come from %s (xapp-...) and %s (xoxb-...);\n"+
		"the config file's bot block says the rest. Logs are JSON on stderr.\n", envAppToken, envBotToken), "info", true, stderr)
	if code, done := p.parse(args); done {
		return code
	}
	if p.fs.NArg() > 0 {
		return p.usageError("unexpected arguments %q", p.fs.Args())
	}
	logger, cfg, ok := p.start()
	if logger != nil {
		defer func() { _ = logger.Sync() }()
	}
	if !ok {
		return exitUsage
	}
	if cfg.Bot == nil {
		logger.Error("invalid config: `opsbot serve` needs a bot block (see opsbot.example.yaml)", zap.String("config", *p.config))
		return exitUsage
	}
	appToken, botToken, err := tokens(deps.getenv)
	if err != nil {
		logger.Error("missing Slack tokens", zap.Error(err))
		return exitUsage
	}

	store, closeStore, err := openStore(ctx, cfg.Bot.Store, deps.getenv, logger)
	if err != nil {
		logger.Error("cannot open the store", zap.Error(err))
		return exitProblems
	}
	defer closeStore()
	runs, _ := store.(bot.ScheduleStore)
	// The findings behind the reports' Investigate buttons are stored with
	// the rest, so that any replica, restarted or not, handles a click.
	reports, _ := store.(checklist.RunStore)
	sched, err := scheduleOptions(cfg, runs, deps.getenv, logger)
	if err != nil {
		logger.Error("cannot set up the scheduled checklist", zap.Error(err))
		return exitUsage
	}

	inc, err := buildIncidentParts(cfg, store, deps.getenv, logger)
	if err != nil {
		logger.Error("cannot set up incidents", zap.Error(err))
		return exitUsage
	}

	factory := deps.checklist
	if factory == nil {
		factory = checklistFactory(cfg, logger, slack.New(botToken, slack.OptionAPIURL(cfg.Bot.Slack.APIURL)), runs)
	}
	s := cfg.Bot.Slack
	b, err := bot.New(bot.Options{
		AppToken: appToken, BotToken: botToken, APIURL: s.APIURL, TeamID: s.TeamID, AppID: s.AppID,
		DevChannel: s.DevChannel, OpsChannel: s.OpsChannel, OpsGroup: s.OpsGroup,
		Deciders:     bot.Deciders{Users: s.Deciders.Users, Groups: s.Deciders.Groups},
		Environments: cfg.EnvironmentNames(), DefaultEnvironment: cfg.DefaultEnvironment,
		Checklist: factory, Store: store, Runs: reports, Recurrence: cfg.Bot.Recurrence,
		HealthListen: cfg.Bot.Health.Listen, Logger: logger,
		Schedule: sched,
		Incident: inc.incident, Location: inc.location, Templates: inc.templates,
	})
	if err != nil {
		logger.Error("invalid config", zap.Error(err))
		return exitUsage
	}
	if deps.started != nil {
		go func() {
			select {
			case <-b.Started():
				deps.started(b)
			case <-ctx.Done():
			}
		}()
	}
	err = b.Run(ctx)
	switch {
	case err == nil:
		logger.Info("stopped")
		return exitOK
	case errors.Is(err, bot.ErrLinkDisabled):
		logger.Warn("stopped: Slack disabled the app's Socket Mode link; enable Socket Mode and restart", zap.Error(err))
		return exitOK
	default:
		logger.Error("stopped", zap.Error(err))
		return exitProblems
	}
}

// tokens reads the Slack tokens. Errors name the variable, never a value.
func tokens(getenv func(string) string) (app, bot string, err error) {
	app, bot = strings.TrimSpace(getenv(envAppToken)), strings.TrimSpace(getenv(envBotToken))
	var errs []error
	switch {
	case app == "":
		errs = append(errs, fmt.Errorf("%s is not set (the app-level token, xapp-...)", envAppToken))
	case !strings.HasPrefix(app, "xapp-"):
		errs = append(errs, fmt.Errorf("%s is not an app-level token (want xapp-...)", envAppToken))
	}
	switch {
	case bot == "":
		errs = append(errs, fmt.Errorf("%s is not set (the bot token, xoxb-...)", envBotToken))
	case !strings.HasPrefix(bot, "xoxb-"):
		errs = append(errs, fmt.Errorf("%s is not a bot token (want xoxb-...)", envBotToken))
	}
	return app, bot, errors.Join(errs...)
}

// openStore opens the configured store and returns how to close it.
func openStore(ctx context.Context, cfg config.Store, getenv func(string) string, logger *zap.Logger) (triage.Store, func(), error) {
	openCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if cfg.Postgres != nil {
		dsn := getenv(cfg.Postgres.DSNEnv)
		if dsn == "" {
			return nil, nil, fmt.Errorf("bot.store.postgres.dsnEnv: environment variable %s is not set", cfg.Postgres.DSNEnv)
		}
		db, err := postgres.Open(openCtx, dsn, logger.Named("store"))
		if err != nil {
			return nil, nil, err
		}
		return db, func() { _ = db.Close() }, nil
	}
	db, err := sqlite.Open(openCtx, cfg.SQLite.Path, logger.Named("store"))
	if err != nil {
		return nil, nil, err
	}
	return db, func() { _ = db.Close() }, nil
}

// checklistFactory builds an environment's checks from the config, once,
// and reuses them. api reads the alerts channel; runs, if not nil, says
// when the scheduled checklist last ran (the alerts channel is read from
// there).
func checklistFactory(cfg *config.Config, logger *zap.Logger, api alertschannel.History, runs bot.ScheduleStore) bot.ChecklistFactory {
	var mu sync.Mutex
	built := map[string]bot.Checklist{}
	return func(_ context.Context, name string) (bot.Checklist, error) {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := built[name]; ok {
			return c, nil
		}
		env, err := cfg.Environment(name)
		if err != nil {
			return bot.Checklist{}, err
		}
		list, err := checklist.Build(env, checklist.Options{Logger: logger.Named("checks"),
			Slack: api, LastChecklist: lastChecklist(runs, name), Location: scheduleLocation(cfg)})
		if err != nil {
			return bot.Checklist{}, err
		}
		c := bot.Checklist{Checks: append([]checks.Check(nil), list...), Timeout: time.Duration(env.Timeout)}
		built[name] = c
		return c, nil
	}
}
