package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/checks/alertschannel"
	"github.com/opsbot/opsbot/checks/logs"
	"github.com/opsbot/opsbot/health"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/internal/config"
	"github.com/opsbot/opsbot/internal/run"
	"github.com/opsbot/opsbot/internal/version"
	"github.com/opsbot/opsbot/internal/wait"
	"github.com/opsbot/opsbot/noise"
	"github.com/opsbot/opsbot/silence"
	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/store/postgres"
	"github.com/opsbot/opsbot/store/sqlite"
	"github.com/opsbot/opsbot/telemetry"
	"github.com/opsbot/opsbot/templates"
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
	// started, if set, is called with the bot and the health server once
	// they are built, as they start.
	started func(*bot.Bot, *health.Server)
	// retry is the start-up retries' backoff (default defaultRetry).
	retry backoff
	// health, if set, is called with the health server as soon as it is
	// built, before the store is opened.
	health func(*health.Server)
	// now, if set, is the bot's clock (default time.Now).
	now func() time.Time
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

	metrics := telemetry.New(version.Version)
	retry := deps.retry
	if retry.initial <= 0 {
		retry = defaultRetry
	}

	// The health server comes first: while the store or Slack cannot be
	// reached, the process stays up, says it is not ready, and retries.
	var ready struct {
		bot atomic.Pointer[bot.Bot]
		db  atomic.Pointer[store.DB]
	}
	var outer run.Group
	var hs *health.Server
	if listen := cfg.Bot.Health.Listen; listen != "" {
		hs = health.New(listen, map[string]health.Check{
			"slack": func(ctx context.Context) error {
				if b := ready.bot.Load(); b != nil {
					return b.Ready(ctx)
				}
				return errStarting
			},
			"store": func(ctx context.Context) error {
				if db := ready.db.Load(); db != nil {
					return db.Ping(ctx)
				}
				return errStarting
			},
		}, logger.Named("health"))
		hs.Handle("GET /metrics", metrics.Handler())
		outer.Add("health", hs.Run)
		if deps.health != nil {
			deps.health(hs)
		}
	}
	outer.Add("opsbot", func(ctx context.Context) error {
		var db *store.DB
		var closeStore func()
		err := retry.do(ctx, logger, "opening the store", func() (err error) {
			db, closeStore, err = openStore(ctx, cfg.Bot.Store, deps.getenv, logger, store.WithFailureHook(metrics.StoreError))
			return err
		})
		if err != nil {
			return err
		}
		defer closeStore()
		ready.db.Store(db)

		parts, err := assemble(cfg, db, appToken, botToken, deps, metrics, logger)
		if err != nil {
			return &configError{err}
		}
		ready.bot.Store(parts.bot)
		if deps.started != nil {
			deps.started(parts.bot, hs)
		}
		// The token first: a replica Slack refuses must not claim an
		// occurrence of the schedule it cannot post. Slack down is retried;
		// a token Slack refuses stops the process.
		if err := retry.do(ctx, logger, "checking the Slack bot token", func() error {
			err := parts.bot.CheckToken(ctx)
			if bot.IsPermanent(err) {
				return permanentError{err}
			}
			return err
		}); err != nil {
			return err
		}
		return parts.group.Run(ctx, logger)
	})
	err = outer.Run(ctx, logger)
	var ce *configError
	var pe permanentError
	switch {
	case err == nil:
		logger.Info("stopped")
		return exitOK
	case errors.As(err, &ce):
		logger.Error("invalid config", zap.Error(ce.err))
		return exitUsage
	case errors.Is(err, bot.ErrLinkDisabled):
		logger.Warn("stopped: Slack disabled the app's Socket Mode link; enable Socket Mode and restart", zap.Error(err))
		return exitOK
	case errors.As(err, &pe):
		logger.Error("stopped: Slack refused the bot token", zap.Error(pe.err))
		return exitProblems
	default:
		logger.Error("stopped", zap.Error(err))
		return exitProblems
	}
}

// errStarting: the part a readiness check asks about is not up yet.
var errStarting = errors.New("starting")

// configError is a configuration problem found while assembling: exit 2.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }

// permanentError is a failure retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }

// backoff retries a start-up step with exponential backoff and jitter.
type backoff struct{ initial, max time.Duration }

// defaultRetry starts at 1 s and waits at most a minute between tries.
var defaultRetry = backoff{initial: time.Second, max: time.Minute}

// do runs step until it succeeds, fails with a permanentError, or ctx is
// done; each failure is logged with what was being done.
func (b backoff) do(ctx context.Context, logger *zap.Logger, what string, step func() error) error {
	d := b.initial
	for attempt := 1; ; attempt++ {
		err := step()
		var pe permanentError
		if err == nil || errors.As(err, &pe) {
			return err
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		pause := d/2 + rand.N(d/2+1)
		logger.Warn(what+" failed; retrying", zap.Int("attempt", attempt), zap.Duration("pause", pause), zap.Error(err))
		if werr := wait.Sleep(ctx, pause); werr != nil {
			return werr
		}
		if d *= 2; d > b.max {
			d = b.max
		}
	}
}

// served are the parts of a running `opsbot serve`.
type served struct {
	bot *bot.Bot
	// group runs them as peers: the bot (Socket Mode and its workers),
	// the scheduler and its leader election. The first to stop stops the
	// others.
	group run.Group
}

// assemble builds every part of `opsbot serve` from the configuration: the
// one place where the store, the Slack client, the domain services and the
// adapters meet. A missing capability is a compile error here, never a
// feature silently off.
func assemble(cfg *config.Config, db *store.DB, appToken, botToken string, deps serveDeps,
	metrics *telemetry.Metrics, logger *zap.Logger) (*served, error) {
	bc := cfg.Bot
	s := bc.Slack
	loc, err := bc.Location()
	if err != nil {
		return nil, err
	}
	tmpl, err := templates.New(bc.TemplatesDir)
	if err != nil {
		return nil, fmt.Errorf("bot.templatesDir: %w", err)
	}
	sl, err := bot.NewSlack(bot.SlackOptions{AppToken: appToken, BotToken: botToken, APIURL: s.APIURL,
		Metrics: metrics, Logger: logger.Named("slack")})
	if err != nil {
		return nil, err
	}

	// Incidents: announced through Slack, raised on each environment's
	// status page.
	pages, err := statusPages(cfg, deps.getenv, metrics, logger)
	if err != nil {
		return nil, err
	}
	desk, err := incident.NewDesk(incident.Options{
		Store: db.Incidents(), Slack: bot.NewAnnouncer(sl), Templates: tmpl,
		Escape: bot.Escape, Mention: sl.KnownName, Redactor: cfg.Redaction.Redactor(), Location: loc,
		Logger: logger.Named("incident"),
	}, pages)
	if err != nil {
		return nil, err
	}

	// Anomalies: opened, decided and observed in threads of the dev
	// channel.
	threads, err := bot.NewThreads(sl, bot.ThreadsOptions{DevChannel: s.DevChannel, OpsGroup: s.OpsGroup,
		Templates: tmpl, AnnounceButton: true, Logger: logger.Named("threads")})
	if err != nil {
		return nil, err
	}
	silencers, err := silencers(cfg, logger)
	if err != nil {
		return nil, err
	}
	tri, err := triage.NewService(triage.ServiceOptions{Store: db, Threads: threads, Silencers: silencers, SilenceClaims: db,
		Recurrence: bc.Recurrence, Redactor: cfg.Redaction.Redactor(), Logger: logger.Named("triage")})
	if err != nil {
		return nil, err
	}

	hand, err := handoverOptions(cfg, db)
	if err != nil {
		return nil, err
	}

	factory := deps.checklist
	if factory == nil {
		factory = checklistFactory(cfg, logger, sl.Client(), db)
	}
	charts, err := chartsOf(cfg, loc, logger)
	if err != nil {
		return nil, err
	}
	b, err := bot.New(bot.Options{
		Slack: sl, TeamID: s.TeamID, AppID: s.AppID, EnterpriseID: s.EnterpriseID,
		AllowedChannels: s.AllowedChannels, AllowDirectMessages: s.AllowDirectMessages,
		Refusals: db, Commands: db,
		DevChannel: s.DevChannel, OpsChannel: s.OpsChannel,
		Deciders:     bot.Deciders{Users: s.Deciders.Users, Groups: s.Deciders.Groups},
		Environments: cfg.EnvironmentNames(), DefaultEnvironment: cfg.DefaultEnvironment,
		Checklist: factory, Triage: tri, Runs: db, Noise: db, Charts: charts, History: db, Handover: hand, Now: deps.now,
		Incidents: desk, IncidentChannel: s.IncidentChannel, Location: loc, Templates: tmpl,
		MaxSilence: time.Duration(bc.Silences.MaxLength), NoiseAlertmanagers: noiseAlertmanagers(silencers),
		Metrics: metrics, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	out := &served{bot: b}
	out.group.Add("slack", b.Run)

	if err := addSchedule(&out.group, cfg, b, db, deps.getenv, logger); err != nil {
		return nil, err
	}
	if err := addHandoverSchedule(&out.group, cfg, b, db, logger); err != nil {
		return nil, err
	}
	if err := addNoiseWeekly(&out.group, cfg, b, db, logger); err != nil {
		return nil, err
	}
	return out, nil
}

// noiseAlertmanagers are the Alertmanagers of the environments with one,
// as the noise report asks them: the Silencers' clients.
func noiseAlertmanagers(silencers map[string]triage.Silencer) map[string]noise.Alertmanager {
	out := map[string]noise.Alertmanager{}
	for name, s := range silencers {
		if am, ok := s.(noise.Alertmanager); ok {
			out[name] = am
		}
	}
	return out
}

// silencers are the Silencers of the environments with an Alertmanager,
// which make the silences of Noise decisions, by environment name.
func silencers(cfg *config.Config, logger *zap.Logger) (map[string]triage.Silencer, error) {
	out := map[string]triage.Silencer{}
	for _, name := range cfg.EnvironmentNames() {
		am := cfg.Environments[name].Alertmanager
		if am == nil || am.URL == "" {
			continue
		}
		field := "environments." + name + ".alertmanager"
		client, err := checklist.EndpointClient(am, field)
		if err != nil {
			return nil, err
		}
		c, err := silence.New(am.URL, silence.Options{HTTPClient: client, Logger: logger.Named("silence").With(zap.String("environment", name))})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		out[name] = c
	}
	return out, nil
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
func openStore(ctx context.Context, cfg config.Store, getenv func(string) string, logger *zap.Logger, opts ...store.Option) (*store.DB, func(), error) {
	openCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if cfg.Postgres != nil {
		dsn := getenv(cfg.Postgres.DSNEnv)
		if dsn == "" {
			return nil, nil, fmt.Errorf("bot.store.postgres.dsnEnv: environment variable %s is not set", cfg.Postgres.DSNEnv)
		}
		db, err := postgres.Open(openCtx, dsn, logger.Named("store"), opts...)
		if err != nil {
			return nil, nil, err
		}
		return db.DB, func() { _ = db.Close() }, nil
	}
	db, err := sqlite.Open(openCtx, cfg.SQLite.Path, logger.Named("store"), opts...)
	if err != nil {
		return nil, nil, err
	}
	return db.DB, func() { _ = db.Close() }, nil
}

// The store is the checklist's run history (checklistFactory finds it so).
var _ checklist.RunHistory = (*store.DB)(nil)

// checklistFactory builds an environment's checks from the config, once,
// and reuses them. api reads the alerts channel; runs, if not nil, says
// when the scheduled checklist last ran (the alerts channel is read from
// there).
func checklistFactory(cfg *config.Config, logger *zap.Logger, api alertschannel.History, runs checklist.RunLog) bot.ChecklistFactory {
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
		meter := &checklist.Meter{}
		opts := checklist.Options{Logger: logger.Named("checks"),
			Slack: api, LastChecklist: lastChecklist(runs, name), Location: scheduleLocation(cfg), Meter: meter}
		if h, ok := runs.(checklist.RunHistory); ok {
			// The store keeps the runs: the security check says what is new since the last.
			opts.LastRunFindings = checklist.LastRunFindings(h, name)
		}
		if st, ok := runs.(logs.StateStore); ok {
			// The store keeps the logs check's state: a run reads only what was logged since the last.
			opts.LogState, opts.Redactor = st, cfg.Redaction.Redactor()
		}
		list, err := checklist.Build(env, opts)
		if err != nil {
			return bot.Checklist{}, err
		}
		c := bot.Checklist{Checks: append([]checks.Check(nil), list...), Timeout: time.Duration(env.Timeout), Meter: meter,
			Redactor: cfg.Redaction.Redactor()}
		built[name] = c
		return c, nil
	}
}
