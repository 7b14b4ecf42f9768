package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/opsbot/opsbot/internal/wait"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
	"go.uber.org/zap"
)

// Errors that make the supervisor stop or restart slack-go's loop.
var (
	errFlapping = errors.New("connections keep dropping right after they open")
)

// PermanentError is a Slack error that retrying cannot fix (a revoked
// token, a missing scope): the bot stops with it.
type PermanentError struct {
	Code string
}

func (e *PermanentError) Error() string {
	return "slack refused the connection: " + e.Code + " (check the app's tokens and scopes)"
}

// permanentCodes are Slack error codes on which reconnecting is pointless.
// slack-go itself gives up on the first four when opening a connection; it
// retries the others forever.
var permanentCodes = map[string]bool{
	"invalid_auth": true, "account_inactive": true, "not_authed": true, "token_revoked": true,
	"token_expired": true, "missing_scope": true, "not_allowed_token_type": true,
	"no_permission": true, "team_access_not_granted": true, "invalid_token": true,
}

// IsPermanent reports whether err is a Slack error that retrying cannot
// fix (a refused or revoked token, a missing scope).
func IsPermanent(err error) bool { return permanent(err) != nil }

// permanent returns the PermanentError behind err, if any.
func permanent(err error) *PermanentError {
	if err == nil {
		return nil
	}
	// Already classified (the supervisor is interrupted with one).
	var pe *PermanentError
	if errors.As(err, &pe) {
		return pe
	}
	var sr slack.SlackErrorResponse
	if errors.As(err, &sr) && permanentCodes[sr.Err] {
		return &PermanentError{Code: sr.Err}
	}
	if permanentCodes[err.Error()] {
		return &PermanentError{Code: err.Error()}
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) && sc.Code == 404 {
		return &PermanentError{Code: fmt.Sprintf("HTTP %d from %s", sc.Code, "apps.connections.open")}
	}
	return nil
}

// supervisor wraps slack-go's RunContext: it stops on permanent errors and
// link_disabled, and restarts a flapping loop with backoff and jitter.
type supervisor struct {
	b *Bot

	mu        sync.Mutex
	cancelRun context.CancelCauseFunc
	short     int // connections in a row that lasted less than StableAfter
}

func newSupervisor(b *Bot) *supervisor { return &supervisor{b: b} }

// interrupt stops the current RunContext with cause.
func (s *supervisor) interrupt(cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancelRun != nil {
		s.cancelRun(cause)
	}
}

// onDisconnectFrame is called by the frame tap (on slack-go's reader
// goroutine) for each `disconnect` frame.
func (s *supervisor) onDisconnectFrame(reason string) {
	s.b.log.Info("slack asked to disconnect", zap.String("reason", reason))
	s.lost()
	if reason == "link_disabled" {
		s.interrupt(ErrLinkDisabled)
	}
}

// lost records that the connection went away, and interrupts the loop
// when connections keep dying young.
func (s *supervisor) lost() {
	was, since := s.b.state.set(false, time.Now())
	if !was {
		return
	}
	s.mu.Lock()
	if time.Since(since) < s.b.opts.StableAfter {
		s.short++
	} else {
		s.short = 0
	}
	flapping := s.short >= 3
	if flapping {
		s.short = 0
	}
	s.mu.Unlock()
	if flapping {
		s.interrupt(errFlapping)
	}
}

// run supervises RunContext until ctx is done or a stop condition.
func (s *supervisor) run(ctx context.Context) error {
	log := s.b.log
	for attempt := 0; ; {
		runCtx, cancel := context.WithCancelCause(ctx)
		s.mu.Lock()
		s.cancelRun = cancel
		s.mu.Unlock()
		started := time.Now()
		err := s.b.smc.RunContext(runCtx)
		if time.Since(started) > 10*s.b.opts.StableAfter {
			attempt = 0
		}
		cause := context.Cause(runCtx)
		cancel(nil)
		s.b.state.set(false, time.Now())
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(cause, ErrLinkDisabled):
			log.Warn("Socket Mode was disabled for this app (link_disabled); stopping")
			return ErrLinkDisabled
		case permanent(cause) != nil:
			return permanent(cause)
		case errors.Is(cause, errFlapping):
			// Restart below, after a pause.
		default:
			// RunContext gave up by itself: invalid_auth, account_inactive,
			// not_authed, token_revoked or 404 on apps.connections.open.
			if pe := permanent(err); pe != nil {
				return pe
			}
			return fmt.Errorf("slack socket mode: %w", err)
		}
		d := backoff(attempt, s.b.opts.MaxBackoff)
		attempt++
		log.Warn("restarting Socket Mode after a pause", zap.NamedError("cause", cause), zap.Duration("pause", d))
		if wait.Sleep(ctx, d) != nil {
			return nil // stopping
		}
	}
}

// backoff is 1 s doubled per attempt up to max, with full jitter in its
// upper half.
func backoff(attempt int, max time.Duration) time.Duration {
	d := time.Second << min(attempt, 16)
	if d > max || d <= 0 {
		d = max
	}
	return d/2 + rand.N(d/2+1)
}

// socket runs the supervised Socket Mode loop and the reader of its
// Events, until ctx is done or Slack stops the bot. The reader never blocks
// on work: it hands it to the workers.
func (b *Bot) socket(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case evt := <-b.smc.Events:
				b.onEvent(ctx, evt)
			case <-ctx.Done():
				return
			}
		}
	})
	err := b.sup.run(ctx)
	cancel()
	wg.Wait()
	return err
}

// onEvent handles one event of slack-go's Events channel, quickly.
func (b *Bot) onEvent(ctx context.Context, evt socketmode.Event) {
	log := b.log
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		b.opts.Metrics.SlackConnecting()
		if e, ok := evt.Data.(*slack.ConnectingEvent); ok {
			log.Info("connecting to Slack", zap.Int("attempt", e.Attempt), zap.Int("connection", e.ConnectionCount))
		}
		b.sup.lost()
	case socketmode.EventTypeConnectionError:
		e, _ := evt.Data.(*slack.ConnectionErrorEvent)
		var err error
		if e != nil {
			err = e.ErrorObj
			log.Warn("could not connect to Slack; slack-go retries", zap.Error(err), zap.Duration("backoff", e.Backoff))
		}
		b.sup.lost()
		if pe := permanent(err); pe != nil {
			b.sup.interrupt(pe)
		}
	case socketmode.EventTypeInvalidAuth:
		b.sup.interrupt(&PermanentError{Code: "invalid_auth"})
	case socketmode.EventTypeConnected:
		log.Debug("websocket connected")
	case socketmode.EventTypeHello:
		if evt.Request != nil {
			b.learnAppID(evt.Request.ConnectionInfo.AppID)
		}
		b.state.set(true, time.Now())
		log.Info("connected to Slack (Socket Mode)")
	case socketmode.EventTypeIncomingError:
		// A frame that is not JSON: slack-go drops it and keeps the
		// connection (it reconnects after ten unusable frames in a row).
		var err error
		if e, ok := evt.Data.(*slack.IncomingEventError); ok {
			err = e.ErrorObj
		}
		log.Warn("unreadable Socket Mode frame", zap.Error(err))
	case socketmode.EventTypeErrorBadMessage:
		b.onBadMessage(ctx, evt)
	case socketmode.EventTypeErrorWriteFailed:
		// slack-go does not retry a failed ack write; Slack will show the
		// user an error for that envelope.
		if e, ok := evt.Data.(*socketmode.ErrorWriteFailed); ok && e.Response != nil {
			log.Error("an ack could not be written", zap.String("envelope", e.Response.EnvelopeID), zap.Error(e.Cause))
		}
	case socketmode.EventTypeSlashCommand:
		b.onSlashCommand(ctx, evt)
	case socketmode.EventTypeInteractive:
		b.onInteractive(ctx, evt)
	case socketmode.EventTypeEventsAPI:
		b.onEventsAPI(ctx, evt)
	default:
		log.Debug("ignored Socket Mode event", zap.String("type", string(evt.Type)))
	}
}

// onBadMessage acks an envelope slack-go could not parse (a payload of an
// unexpected shape, a type it does not know) when it has an envelope_id:
// Slack would otherwise retry it or show the user a timeout. Nothing else
// is done with it; its content is not logged (payloads carry the legacy
// verification token).
func (b *Bot) onBadMessage(ctx context.Context, evt socketmode.Event) {
	var cause error
	var env struct {
		EnvelopeID string `json:"envelope_id"`
		Type       string `json:"type"`
	}
	if e, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
		cause = e.Cause
		_ = json.Unmarshal(e.Message, &env) // what cannot be read has no id to ack
	}
	log := b.log.With(zap.String("type", truncate(env.Type, 50)), zap.String("envelope", truncate(env.EnvelopeID, 100)), zap.NamedError("cause", cause))
	if env.EnvelopeID == "" {
		log.Warn("unreadable Socket Mode message without an envelope id; dropped")
		return
	}
	b.received(env.EnvelopeID, "unreadable")
	b.ack(ctx, env.EnvelopeID, nil)
	log.Warn("acked an unreadable Socket Mode envelope and dropped it")
}

// arrival is when an envelope of a type was read.
type arrival struct {
	typ string
	at  time.Time
}

// received counts an envelope of type typ read now, for its ack latency.
func (b *Bot) received(envelopeID, typ string) {
	if b.opts.Metrics == nil {
		return
	}
	b.opts.Metrics.EnvelopeReceived(typ)
	b.arrivals.Store(envelopeID, arrival{typ: typ, at: time.Now()})
}

// ack acknowledges an envelope (with an optional payload) without blocking
// for long.
func (b *Bot) ack(ctx context.Context, envelopeID string, payload any) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := b.smc.AckCtx(ctx, envelopeID, payload)
	if v, ok := b.arrivals.LoadAndDelete(envelopeID); ok && err == nil {
		a := v.(arrival)
		b.opts.Metrics.Acked(a.typ, time.Since(a.at))
	}
	if err != nil {
		b.log.Error("could not ack an envelope", zap.String("envelope", envelopeID), zap.Error(err))
	}
}

// onEventsAPI hands the one event opsbot subscribes to, app_home_opened
// on the Home tab, to the workers, and acks every Events API envelope
// right after (Slack retries what is not acked): once acked, the work is
// queued. A delivery Slack retries is dropped.
func (b *Bot) onEventsAPI(ctx context.Context, evt socketmode.Event) {
	if evt.Request == nil {
		return
	}
	envID := evt.Request.EnvelopeID
	b.received(envID, "events_api")
	defer b.ack(ctx, envID, nil)
	ev, ok := evt.Data.(slackevents.EventsAPIEvent)
	if !ok || ev.Type != slackevents.CallbackEvent {
		return
	}
	home, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent)
	if !ok || home.Tab != "home" {
		return
	}
	// Events carry their Enterprise Grid organization in authorizations,
	// which slack-go does not read: the workspace and the app are checked.
	enterprise := ev.EnterpriseID
	if enterprise == "" {
		b.mu.Lock()
		enterprise = b.enterpriseID
		b.mu.Unlock()
	}
	if reason := b.untrusted(ev.TeamID, enterprise, ev.APIAppID); reason != "" {
		b.log.Warn("dropped an event from another workspace, enterprise or app", zap.String("reason", reason),
			zap.String("team", ev.TeamID), zap.String("app", ev.APIAppID), zap.String("envelope", envID))
		return
	}
	if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok && cb.EventID != "" && b.seen.check("event:"+cb.EventID) {
		b.log.Info("dropped a repeated event", zap.String("envelope", envID), zap.String("event", cb.EventID))
		return
	}
	r := &request{kind: "event", envelopeID: envID, teamID: ev.TeamID, userID: home.User}
	publish := func(ctx context.Context, r *request) error { return b.onAppHomeOpened(ctx, r.userID) }
	if !b.pool.submit(func(workCtx context.Context) {
		ctx, cancel := context.WithTimeout(workCtx, b.opts.HandlerTimeout)
		defer cancel()
		if err := safely(ctx, publish, r); err != nil {
			b.log.Warn("could not publish the App Home tab", append(r.fields(), zap.Error(err))...)
		}
	}) {
		b.log.Warn("no room to publish an App Home tab; dropped", zap.String("user", home.User))
	}
}
