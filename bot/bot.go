package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/slack-go/slack/socketmode"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/history"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/internal/run"
	"github.com/opsbot/opsbot/noise"
	"github.com/opsbot/opsbot/redact"
	"github.com/opsbot/opsbot/telemetry"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

// Defaults of the Options tuning fields.
const (
	DefaultWorkers = 16
	// DefaultChecklistWorkers is how many `/ops checklist` runs go at
	// once; they have their own workers so that clicks and modal
	// submissions never wait behind them.
	DefaultChecklistWorkers = 4
	// DefaultViewWorkers is how many modal submissions are validated at
	// once, on workers of their own: their ack is due within 3 s, whatever
	// the other handlers are waiting for.
	DefaultViewWorkers      = 4
	DefaultQueueSize        = 256
	DefaultHandlerTimeout   = 30 * time.Second
	DefaultChecklistTimeout = 5 * time.Minute
	DefaultShutdownTimeout  = 20 * time.Second
	DefaultGroupCacheTTL    = time.Minute
	// DefaultStableAfter is how long a Socket Mode connection must last to
	// count as stable; three shorter ones in a row trigger a backoff.
	DefaultStableAfter = 10 * time.Second
	DefaultMaxBackoff  = time.Minute
	// DefaultMaxSilence is the longest silence opsbot makes: 90 days.
	DefaultMaxSilence = 90 * 24 * time.Hour
)

// MaxEnvelopeBytes is the largest Socket Mode message the bot reads.
// Slack's largest payloads (a block action on a 50-block message, a
// 100-block modal's submission with its state) are a few hundred
// kilobytes; a bigger message closes the connection before it is read
// (slack-go reads without a limit by default) and the bot reconnects.
const MaxEnvelopeBytes = 4 << 20

// ErrLinkDisabled is returned by Run when Slack disabled the app's Socket
// Mode link (a `link_disabled` disconnect): a clean stop, not a failure.
var ErrLinkDisabled = errors.New("slack disabled the app's Socket Mode link (link_disabled)")

// Checklist is an environment's checks, as the bot runs them.
type Checklist struct {
	Checks []checks.Check
	// Timeout is the deadline of a check that sets none of its own.
	Timeout time.Duration
	// Meter, if set, counts the checks' requests: the report then ends
	// with the run's cost (checklist.Options.Meter).
	Meter *checklist.Meter
	// Redactor takes secrets out of the checks' results
	// (checklist.RunOptions.Redactor); the zero Redactor redacts every kind.
	Redactor redact.Redactor
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

// Options are the bot's configuration and the parts it is given: cmd/opsbot
// builds the domain services and the Slack client, and hands them over.
type Options struct {
	// Slack is the Web API client, shared with the anomalies' threads and
	// the incidents' announcements (NewSlack). Required.
	Slack *Slack
	// TeamID and AppID, when set, are the only workspace and app whose
	// payloads are accepted; by default the workspace is auth.test's and
	// the app is the one named in Socket Mode's hello.
	TeamID string
	AppID  string
	// EnterpriseID, when set, is the Enterprise Grid organization the
	// workspace must belong to (auth.test) and every payload must name;
	// by default it is auth.test's, when the workspace is in one.
	EnterpriseID string
	// AllowedChannels, when not empty, are the channel ids where /ops may
	// be used and clicks and modal submissions are answered, beside the
	// bot's own channels (DevChannel, OpsChannel, IncidentChannel and the
	// scheduled checklist's), where its buttons are. Empty: any channel.
	AllowedChannels []string
	// AllowDirectMessages lets /ops be used in direct messages (channel
	// ids D...); they are refused otherwise.
	AllowDirectMessages bool
	// Refusals keeps the audit record of refused requests (store.DB).
	// Required.
	Refusals RefusalLog
	// Commands remembers the `/ops checklist` commands that ran, so that
	// one delivered again after a restart, or to another replica, does
	// not run twice (store.DB). Required.
	Commands CommandLog

	// DevChannel is where anomaly threads are opened (a channel id): the
	// channel of a modal's answers.
	DevChannel string
	// OpsChannel is the ops rotation's channel (announcements by
	// default).
	OpsChannel string
	Deciders   Deciders

	// Environments are the names `/ops checklist` accepts;
	// DefaultEnvironment is used when none is given.
	Environments       []string
	DefaultEnvironment string
	Checklist          ChecklistFactory

	// Triage opens, decides and observes anomalies
	// (triage.NewService, posting through NewThreads). Required.
	Triage *triage.Service
	// Runs keeps the findings behind the checklist reports' Investigate
	// buttons (store.DB). Required.
	Runs checklist.RunStore
	// Incidents runs the incident procedure (`/ops incident`, `/ops
	// update`, `/ops resolve`; incident.NewDesk, posting through
	// NewAnnouncer); nil: the incident commands answer that incidents are
	// not set up, and Serious decisions get no Announce button (see
	// ThreadsOptions.AnnounceButton).
	Incidents *incident.Desk
	// Noise reads the noise report (`/ops noise`; store.DB); nil: the
	// command answers that the report is not set up.
	Noise noise.Store
	// Charts draws the chart of a finding whose anomaly thread opens
	// (checklist.Charts); nil: threads get no charts.
	Charts Charts
	// History searches past investigations (`/ops history`; store.DB);
	// nil: the command answers that the search is not set up.
	History history.Store
	// Handover is the rotation's handover (`/ops handover`, its
	// Acknowledge handover button, the App Home tab, ScheduledHandover);
	// nil: none of them.
	Handover *Handover
	// NoiseAlertmanagers are the environments' Alertmanagers the noise
	// report asks whether the decisions' silences still match alerts
	// (silence.Client); an environment without one is said unchecked.
	NoiseAlertmanagers map[string]noise.Alertmanager
	// IncidentChannel is the channel id announcements go to (default
	// OpsChannel, else DevChannel).
	IncidentChannel string
	// Location is the time zone times are shown and entered in (default
	// Europe/London).
	Location *time.Location
	// MaxSilence is the longest silence the Noise form makes or Extend
	// extends to, from now (default DefaultMaxSilence).
	MaxSilence time.Duration
	// Templates are the message texts (default: templates.New("")).
	Templates *templates.Set

	Logger *zap.Logger
	// Metrics, if set, count envelopes, acks, checklist runs, decisions
	// and incidents (telemetry.New).
	Metrics *telemetry.Metrics
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
	// ViewWorkers validate modal submissions (default DefaultViewWorkers)
	// and do nothing else; the work after a submission's ack goes to
	// Workers.
	ViewWorkers      int
	HandlerTimeout   time.Duration
	ChecklistTimeout time.Duration
	ShutdownTimeout  time.Duration
	GroupCacheTTL    time.Duration
	// PingInterval is how long without a ping from Slack before the
	// connection is considered dead (slack-go's default, 30 s, when zero).
	PingInterval time.Duration
	StableAfter  time.Duration
	MaxBackoff   time.Duration
}

// orDefault sets *p to v when it is not positive (unset).
func orDefault[T int | time.Duration](p *T, v T) {
	if *p <= 0 {
		*p = v
	}
}

func (o *Options) setDefaults() error {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	orDefault(&o.Workers, DefaultWorkers)
	orDefault(&o.QueueSize, DefaultQueueSize)
	orDefault(&o.ChecklistWorkers, DefaultChecklistWorkers)
	orDefault(&o.ViewWorkers, DefaultViewWorkers)
	orDefault(&o.HandlerTimeout, DefaultHandlerTimeout)
	orDefault(&o.ChecklistTimeout, DefaultChecklistTimeout)
	orDefault(&o.ShutdownTimeout, DefaultShutdownTimeout)
	orDefault(&o.GroupCacheTTL, DefaultGroupCacheTTL)
	orDefault(&o.StableAfter, DefaultStableAfter)
	orDefault(&o.MaxBackoff, DefaultMaxBackoff)
	orDefault(&o.MaxSilence, DefaultMaxSilence)
	if o.DefaultEnvironment == "" && len(o.Environments) == 1 {
		o.DefaultEnvironment = o.Environments[0]
	}
	if o.Location == nil {
		loc, err := time.LoadLocation(DefaultTimezone)
		if err != nil {
			return fmt.Errorf("time zone %s: %w", DefaultTimezone, err)
		}
		o.Location = loc
	}
	if o.Templates == nil {
		t, err := templates.New("")
		if err != nil {
			return err
		}
		o.Templates = t
	}
	if o.IncidentChannel == "" {
		o.IncidentChannel = o.OpsChannel
	}
	if o.IncidentChannel == "" {
		o.IncidentChannel = o.DevChannel
	}
	return nil
}

func (o *Options) validate() error {
	var errs []error
	if o.Slack == nil {
		errs = append(errs, errors.New("a Slack client is required (NewSlack)"))
	}
	if !validSlackID(o.DevChannel, "C", "G") {
		errs = append(errs, fmt.Errorf("devChannel: want a channel id (C...), got %q", o.DevChannel))
	}
	if !validSlackID(o.IncidentChannel, "C", "G") {
		errs = append(errs, fmt.Errorf("incidentChannel: want a channel id (C...), got %q", o.IncidentChannel))
	}
	if len(o.Deciders.Users)+len(o.Deciders.Groups) == 0 {
		errs = append(errs, errors.New("deciders: at least one user or group is required"))
	}
	if o.Triage == nil {
		errs = append(errs, errors.New("the triage service is required (triage.NewService)"))
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
	for i, c := range o.AllowedChannels {
		if !validSlackID(c, "C", "G") {
			errs = append(errs, fmt.Errorf("allowedChannels[%d]: want a channel id (C...), got %q", i, c))
		}
	}
	if o.EnterpriseID != "" && !validSlackID(o.EnterpriseID, "E") {
		errs = append(errs, fmt.Errorf("enterpriseID: want an Enterprise Grid organization id (E...), got %q", o.EnterpriseID))
	}
	if o.Refusals == nil {
		errs = append(errs, errors.New("a refusal log (the audit record of refused requests) is required"))
	}
	if o.Commands == nil {
		errs = append(errs, errors.New("a command log (which commands ran) is required"))
	}
	return errors.Join(errs...)
}

// Bot is the Slack bot: Socket Mode, the `/ops` router, the buttons and
// modals, translated to and from the domain services it is given. Create it
// with New and run it with Run.
type Bot struct {
	*Slack // the Web API: api, spacer, names, links
	opts   Options
	log    *zap.Logger
	smc    *socketmode.Client
	runs   checklist.RunStore
	triage *triage.Service // anomalies: open, decide, observe, read
	inc    *incidents
	hand   *handovers // nil without Options.Handover

	actions  map[string]actionRoute
	views    map[string]viewRoute
	commands map[string]commandRoute

	auth   *authorizer
	places *places // where requests may come from
	seen   *dedupe
	pool   *pool
	long   *pool // checklist runs
	forms  *pool // modal validation only: the reserved path to a timely ack
	state  *connState
	sup    *supervisor

	// arrivals are the envelopes not acked yet, by id, for the ack latency
	// (only with Metrics).
	arrivals sync.Map // envelope id -> arrival

	mu           sync.Mutex
	teamID       string // accepted team_id
	enterpriseID string // required enterprise id ("": none checked)
	appID        string // accepted api_app_id
	tokenOK      bool   // CheckToken passed
}

// New checks the options, registers the routes (a duplicate action_id is
// an error) and returns the bot. Nothing is contacted before Run.
func New(opts Options) (*Bot, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	b := &Bot{
		Slack:  opts.Slack,
		opts:   opts,
		log:    opts.Logger,
		runs:   opts.Runs,
		triage: opts.Triage,
		inc:    &incidents{channel: opts.IncidentChannel, loc: opts.Location, desk: opts.Incidents},
		seen:   newDedupe(4096),
		pool:   newPool(opts.Workers, opts.QueueSize),
		long:   newPool(opts.ChecklistWorkers, opts.QueueSize),
		forms:  newPool(opts.ViewWorkers, opts.QueueSize),
		state:  &connState{onChange: opts.Metrics.SlackConnected},
		places: newPlaces(opts.AllowedChannels, opts.AllowDirectMessages,
			opts.DevChannel, opts.OpsChannel, opts.IncidentChannel),
		teamID:       opts.TeamID,
		enterpriseID: opts.EnterpriseID,
		appID:        opts.AppID,
	}
	var err error
	if b.hand, err = setUpHandover(&b.opts); err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	if b.hand != nil {
		b.places.add(b.hand.cfg.Channel) // its buttons are clicked there
	}
	if b.actions, b.views, b.commands, err = b.routes(); err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	b.sup = newSupervisor(b)
	smOpts := []socketmode.Option{
		socketmode.OptionDialer(tappedDialer(b.sup.onDisconnectFrame)),
		socketmode.OptionLog(zap.NewStdLog(b.log.Named("socketmode"))),
		socketmode.OptionReadLimit(MaxEnvelopeBytes),
	}
	if opts.PingInterval > 0 {
		smOpts = append(smOpts, socketmode.OptionPingInterval(opts.PingInterval))
	}
	b.smc = socketmode.New(b.api, smOpts...)
	b.auth = newAuthorizer(opts.Deciders, b.api, opts.GroupCacheTTL, opts.Now, b.log)
	return b, nil
}

// Connected reports whether a Socket Mode connection is open.
func (b *Bot) Connected() bool { return b.state.connected() }

// WaitConnected blocks until a Socket Mode connection is open (Slack's
// hello received), or ctx is done.
func (b *Bot) WaitConnected(ctx context.Context) error { return b.state.wait(ctx, true) }

// Run checks the bot token (auth.test), then runs the Socket Mode loop and
// the workers until ctx is done or Slack stops the bot. On the way out it
// stops taking work and waits, up to ShutdownTimeout, for the handlers in
// flight. It returns nil after ctx is done, ErrLinkDisabled when Slack
// disabled the app's link, and an error when the tokens are refused.
// cmd/opsbot runs it beside the scheduler and the health server.
func (b *Bot) Run(ctx context.Context) error {
	if err := b.CheckToken(ctx); err != nil {
		return err
	}
	var g run.Group
	g.Add("socket", b.socket)
	g.Add("workers", func(ctx context.Context) error { return b.pool.run(ctx, b.opts.ShutdownTimeout, b.log) })
	g.Add("checklist workers", func(ctx context.Context) error { return b.long.run(ctx, b.opts.ShutdownTimeout, b.log) })
	g.Add("view workers", func(ctx context.Context) error { return b.forms.run(ctx, b.opts.ShutdownTimeout, b.log) })
	return g.Run(ctx, b.log)
}

// CheckToken checks the bot token with auth.test, once: it must belong to
// the configured workspace (and that workspace is the one whose payloads
// are accepted). cmd/opsbot calls it before it starts the scheduler, so
// that a replica Slack refuses never claims an occurrence; Run calls it
// if nobody did.
func (b *Bot) CheckToken(ctx context.Context) error {
	b.mu.Lock()
	checked := b.tokenOK
	b.mu.Unlock()
	if checked {
		return nil
	}
	authCtx, cancel := context.WithTimeout(ctx, b.opts.HandlerTimeout)
	at, err := b.api.AuthTestContext(authCtx)
	cancel()
	if err != nil {
		return fmt.Errorf("bot: auth.test with the bot token: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.teamID == "" {
		b.teamID = at.TeamID
	} else if b.teamID != at.TeamID {
		return fmt.Errorf("bot: the bot token belongs to workspace %s, the configuration expects %s", at.TeamID, b.teamID)
	}
	switch {
	case b.enterpriseID == "":
		b.enterpriseID = at.EnterpriseID
	case at.EnterpriseID == "":
		return fmt.Errorf("bot: the bot token's workspace %s is in no Enterprise Grid organization, the configuration expects %s",
			at.TeamID, b.enterpriseID)
	case at.EnterpriseID != b.enterpriseID:
		return fmt.Errorf("bot: the bot token's workspace %s is in Enterprise Grid organization %s, the configuration expects %s",
			at.TeamID, at.EnterpriseID, b.enterpriseID)
	}
	b.tokenOK = true
	b.log.Info("slack bot token accepted", zap.String("team", at.TeamID), zap.String("enterprise", at.EnterpriseID),
		zap.String("botUser", at.UserID))
	return nil
}

// Ready says whether the bot can take work: a Socket Mode connection is
// open. For the readiness probe.
func (b *Bot) Ready(context.Context) error {
	if !b.state.connected() {
		return errors.New("slack: not connected")
	}
	return nil
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
