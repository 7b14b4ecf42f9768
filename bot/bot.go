package bot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

// DefaultAPIURL is Slack's Web API base URL.
const DefaultAPIURL = "https://slack.com/api/"

// Defaults of the Options tuning fields.
const (
	DefaultWorkers = 16
	// DefaultChecklistWorkers is how many `/ops checklist` runs go at
	// once; they have their own workers so that clicks and modal
	// submissions never wait behind them.
	DefaultChecklistWorkers = 4
	DefaultQueueSize        = 256
	DefaultHandlerTimeout   = 30 * time.Second
	DefaultChecklistTimeout = 5 * time.Minute
	DefaultShutdownTimeout  = 20 * time.Second
	// DefaultUpdateInterval spaces the chat.update calls of checklist
	// progress: chat.update is Tier 3 (about 50 a minute per workspace).
	DefaultUpdateInterval = 1200 * time.Millisecond
	DefaultGroupCacheTTL  = time.Minute
	// DefaultStableAfter is how long a Socket Mode connection must last to
	// count as stable; three shorter ones in a row trigger a backoff.
	DefaultStableAfter = 10 * time.Second
	DefaultMaxBackoff  = time.Minute
)

// ErrLinkDisabled is returned by Run when Slack disabled the app's Socket
// Mode link (a `link_disabled` disconnect): a clean stop, not a failure.
var ErrLinkDisabled = errors.New("slack disabled the app's Socket Mode link (link_disabled)")

// Checklist is an environment's checks, as the bot runs them.
type Checklist struct {
	Checks []checks.Check
	// Timeout is the deadline of a check that sets none of its own.
	Timeout time.Duration
}

// ChecklistFactory builds the checks of environment env. It is called for
// every `/ops checklist`; tests inject fake checks through it.
type ChecklistFactory func(ctx context.Context, env string) (Checklist, error)

// Deciders are who may record decisions (and run the checklist, open
// anomalies, announce): Slack user ids and user group ids, whose members are
// resolved with usergroups.users.list and cached for a short while.
type Deciders struct {
	Users  []string
	Groups []string
}

// Options are the bot's configuration and dependencies.
type Options struct {
	// AppToken (xapp-) opens Socket Mode connections; BotToken (xoxb-)
	// calls the Web API. Neither is ever logged.
	AppToken string
	BotToken string
	// APIURL is the Web API base URL (default DefaultAPIURL).
	APIURL string
	// TeamID and AppID, when set, are the only workspace and app whose
	// payloads are accepted; by default the workspace is auth.test's and
	// the app is the one named in Socket Mode's hello.
	TeamID string
	AppID  string

	// DevChannel is where anomaly threads are opened (a channel id).
	DevChannel string
	// OpsChannel is the ops rotation's channel (scheduled checklists and
	// announcements; kept for the next issues).
	OpsChannel string
	// OpsGroup is the user group mentioned when an anomaly is escalated;
	// empty: no mention.
	OpsGroup string
	Deciders Deciders

	// Environments are the names `/ops checklist` accepts;
	// DefaultEnvironment is used when none is given.
	Environments       []string
	DefaultEnvironment string
	Checklist          ChecklistFactory

	// Store keeps the anomalies; the bot's triage.Service is built on it.
	Store triage.Store
	// Runs keeps the findings behind the checklist reports' Investigate
	// buttons (default: Store, when it implements checklist.RunStore, as
	// store.DB does).
	Runs checklist.RunStore
	// Incident configures the incident procedure: `/ops incident`,
	// `/ops update`, `/ops resolve` (incident.go).
	Incident IncidentOptions
	// Location is the time zone times are shown and entered in (default
	// Europe/London).
	Location *time.Location
	// Templates are the message texts (default: templates.New("")).
	Templates *templates.Set
	// StorePing, if set, tells /readyz whether the store is reachable;
	// otherwise a read of anomaly 0 does.
	StorePing  func(ctx context.Context) error
	Recurrence triage.RecurrencePolicy
	// Schedule, if set, runs the checklist on a schedule (schedule.go).
	Schedule *Schedule

	// HealthListen is the health server's address ("127.0.0.1:8080"; ":0"
	// for any port); empty: no health server.
	HealthListen string

	Logger     *zap.Logger
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time

	// Tuning; zero values take the Default* constants.
	Workers   int
	QueueSize int
	// ChecklistWorkers run `/ops checklist` (default
	// DefaultChecklistWorkers), apart from Workers, which handle
	// everything else; a checklist beyond them and a full queue
	// (QueueSize) is answered "busy".
	ChecklistWorkers int
	HandlerTimeout   time.Duration
	ChecklistTimeout time.Duration
	ShutdownTimeout  time.Duration
	UpdateInterval   time.Duration
	GroupCacheTTL    time.Duration
	// PingInterval is how long without a ping from Slack before the
	// connection is considered dead (slack-go's default, 30 s, when zero).
	PingInterval time.Duration
	StableAfter  time.Duration
	MaxBackoff   time.Duration
}

func (o *Options) setDefaults() {
	def := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.ChecklistWorkers <= 0 {
		o.ChecklistWorkers = DefaultChecklistWorkers
	}
	if o.Runs == nil {
		o.Runs, _ = o.Store.(checklist.RunStore)
	}
	def(&o.HandlerTimeout, DefaultHandlerTimeout)
	def(&o.ChecklistTimeout, DefaultChecklistTimeout)
	def(&o.ShutdownTimeout, DefaultShutdownTimeout)
	def(&o.UpdateInterval, DefaultUpdateInterval)
	def(&o.GroupCacheTTL, DefaultGroupCacheTTL)
	def(&o.StableAfter, DefaultStableAfter)
	def(&o.MaxBackoff, DefaultMaxBackoff)
	o.Recurrence.SetDefaults()
	if o.DefaultEnvironment == "" && len(o.Environments) == 1 {
		o.DefaultEnvironment = o.Environments[0]
	}
}

func (o *Options) validate() error {
	var errs []error
	if o.AppToken == "" {
		errs = append(errs, errors.New("the app-level token (SLACK_APP_TOKEN, xapp-...) is required"))
	}
	if o.BotToken == "" {
		errs = append(errs, errors.New("the bot token (SLACK_BOT_TOKEN, xoxb-...) is required"))
	}
	if !validSlackID(o.DevChannel, "C", "G") {
		errs = append(errs, fmt.Errorf("devChannel: want a channel id (C...), got %q", o.DevChannel))
	}
	if o.OpsGroup != "" && !validSlackID(o.OpsGroup, "S") {
		errs = append(errs, fmt.Errorf("opsGroup: want a user group id (S...), got %q", o.OpsGroup))
	}
	if len(o.Deciders.Users)+len(o.Deciders.Groups) == 0 {
		errs = append(errs, errors.New("deciders: at least one user or group is required"))
	}
	if o.Store == nil {
		errs = append(errs, errors.New("a store is required"))
	}
	if o.Runs == nil {
		errs = append(errs, errors.New("a run store (the findings behind Investigate buttons) is required"))
	}
	if o.Checklist == nil {
		errs = append(errs, errors.New("a checklist factory is required"))
	}
	if len(o.Environments) == 0 {
		errs = append(errs, errors.New("at least one environment is required"))
	}
	if err := o.Recurrence.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("recurrence.%w", err))
	}
	return errors.Join(errs...)
}

// Bot is the Slack bot. Create it with New and run it with Run.
type Bot struct {
	opts  Options
	log   *zap.Logger
	api   *slack.Client
	smc   *socketmode.Client
	store triage.Store
	runs  checklist.RunStore

	actions  map[string]actionRoute
	views    map[string]viewRoute
	commands map[string]commandRoute

	auth    *authorizer
	names   *names
	triage  *triage.Service // anomalies: open, decide, observe
	seen    *dedupe
	spacer  *spacer
	pool    *pool
	long    *pool // checklist runs
	state   *connState
	sup     *supervisor
	links   *permalinks
	sched   *scheduler // nil: no schedule
	inc     *incidents
	started chan struct{}

	mu         sync.Mutex
	teamID     string // accepted team_id
	appID      string // accepted api_app_id
	healthAddr string
}

// New checks the options, registers the routes (a duplicate action_id is
// an error) and returns the bot. Nothing is contacted before Run.
func New(opts Options) (*Bot, error) {
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	b := &Bot{
		opts:    opts,
		log:     opts.Logger,
		store:   opts.Store,
		runs:    opts.Runs,
		seen:    newDedupe(4096),
		spacer:  &spacer{gap: opts.UpdateInterval},
		pool:    newPool(opts.Workers, opts.QueueSize),
		long:    newPool(opts.ChecklistWorkers, opts.QueueSize),
		state:   &connState{},
		links:   newPermalinks(),
		started: make(chan struct{}),
		teamID:  opts.TeamID,
		appID:   opts.AppID,
	}
	var err error
	if b.actions, b.views, b.commands, err = b.routes(); err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	b.api = slack.New(opts.BotToken,
		slack.OptionAppLevelToken(opts.AppToken),
		slack.OptionAPIURL(opts.APIURL),
		slack.OptionHTTPClient(opts.HTTPClient),
	)
	b.sup = newSupervisor(b)
	smOpts := []socketmode.Option{
		socketmode.OptionDialer(tappedDialer(b.sup.onDisconnectFrame)),
		socketmode.OptionLog(zap.NewStdLog(b.log.Named("socketmode"))),
	}
	if opts.PingInterval > 0 {
		smOpts = append(smOpts, socketmode.OptionPingInterval(opts.PingInterval))
	}
	b.smc = socketmode.New(b.api, smOpts...)
	b.auth = newAuthorizer(opts.Deciders, b.api, opts.GroupCacheTTL, opts.Now, b.log)
	b.names = newNames(b.api)
	if b.triage, err = triage.NewService(triage.ServiceOptions{
		Store: opts.Store, Threads: threads{b}, Recurrence: opts.Recurrence, Now: opts.Now, Logger: b.log,
	}); err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	if b.sched, err = b.newScheduler(); err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	if b.inc, err = newIncidents(b); err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	return b, nil
}

// Started is closed once Run has checked the tokens and started listening
// (HealthAddr is then known).
func (b *Bot) Started() <-chan struct{} { return b.started }

// HealthAddr is the health server's address once Started is closed.
func (b *Bot) HealthAddr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.healthAddr
}

// Connected reports whether a Socket Mode connection is open.
func (b *Bot) Connected() bool { return b.state.connected() }

// WaitConnected blocks until a Socket Mode connection is open (Slack's
// hello received), or ctx is done.
func (b *Bot) WaitConnected(ctx context.Context) error { return b.state.wait(ctx, true) }

// Run checks the bot token (auth.test), then runs the actors until ctx is
// done or one of them stops: the Socket Mode loop, the worker pool, the
// health server and, when configured, the scheduler and its elector. On
// the way out it stops taking work and waits, up to ShutdownTimeout, for
// the handlers in flight (a scheduled run in progress is cancelled). It
// returns nil after ctx is done, ErrLinkDisabled when Slack disabled the
// app's link, and an error when the tokens are refused or another actor
// failed.
func (b *Bot) Run(ctx context.Context) error {
	authCtx, cancel := context.WithTimeout(ctx, b.opts.HandlerTimeout)
	at, err := b.api.AuthTestContext(authCtx)
	cancel()
	if err != nil {
		return fmt.Errorf("bot: auth.test with the bot token: %w", err)
	}
	b.mu.Lock()
	if b.teamID == "" {
		b.teamID = at.TeamID
	} else if b.teamID != at.TeamID {
		b.mu.Unlock()
		return fmt.Errorf("bot: the bot token belongs to workspace %s, the configuration expects %s", at.TeamID, b.teamID)
	}
	b.mu.Unlock()
	b.log.Info("slack bot token accepted", zap.String("team", at.TeamID), zap.String("botUser", at.UserID))

	var ln net.Listener
	if b.opts.HealthListen != "" {
		if ln, err = net.Listen("tcp", b.opts.HealthListen); err != nil {
			return fmt.Errorf("bot: health server: %w", err)
		}
		b.mu.Lock()
		b.healthAddr = ln.Addr().String()
		b.mu.Unlock()
	}
	close(b.started)

	longActor := b.long.actor(ctx, b.opts.ShutdownTimeout, b.log)
	longActor.name = "checklist workers"
	actors := []actor{contextActor(ctx), b.socketActor(ctx), b.pool.actor(ctx, b.opts.ShutdownTimeout, b.log), longActor}
	if ln != nil {
		actors = append(actors, healthActor(ln, b.healthHandler(), b.log))
	}
	if b.sched != nil {
		actors = append(actors, b.sched.actors(ctx)...)
	}
	return runActors(b.log, actors...)
}

// trusted reports whether a payload comes from our workspace and app.
func (b *Bot) trusted(teamID, appID string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if teamID != b.teamID {
		return false
	}
	return b.appID == "" || appID == b.appID
}

// learnAppID records the app named in hello when none is configured.
func (b *Bot) learnAppID(appID string) {
	if appID == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.appID == "" {
		b.appID = appID
		b.log.Info("accepting payloads of app", zap.String("app", appID))
	} else if b.appID != appID {
		b.log.Warn("Socket Mode hello names another app than the configured one",
			zap.String("hello", appID), zap.String("configured", b.appID))
	}
}
