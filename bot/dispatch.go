package bot

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/templates"
)

// request is one slash command, button click or modal submission, with
// what every handler needs.
type request struct {
	kind         string // "command", "action", "view"
	envelopeID   string
	teamID       string
	enterpriseID string
	userID       string
	userName     string
	channelID    string
	responseURL  string
	triggerID    string
	// idem is the idempotency key of the request's first write: Slack's
	// ids that stay the same when an envelope is delivered again.
	idem string

	cmd    *slack.SlashCommand
	args   []string // a command's words after the subcommand
	rest   string   // a command's text after the subcommand
	cb     *slack.InteractionCallback
	action *slack.BlockAction
}

func (r *request) fields() []zap.Field {
	return []zap.Field{zap.String("kind", r.kind), zap.String("envelope", r.envelopeID),
		zap.String("user", r.userID), zap.String("channel", r.channelID)}
}

// handlerFunc handles a request after it was acked.
type handlerFunc func(ctx context.Context, r *request) error

// viewHandlerFunc handles a modal submission before it is acked: it
// returns the ack payload (nil closes the modal) and the work to do after
// the ack (nil: none).
type viewHandlerFunc func(ctx context.Context, r *request) (ack any, then handlerFunc, err error)

// userError is an error whose message is for the user (a refusal, a stale
// button); it is shown as is, ephemerally, and logged at info level.
type userError struct{ msg string }

func (e *userError) Error() string { return e.msg }

func userErr(msg string) error { return &userError{msg: msg} }

var errHandlerTimeout = errors.New("handler deadline exceeded")

// adapt is the one adapter between slack-go's ctx-less world and our
// handlers: a deadline with a cause, a log line per request, panics
// recovered, and errors turned into an ephemeral message for the user
// (the detail stays in the logs).
func (b *Bot) adapt(name string, timeout time.Duration, h handlerFunc) func(ctx context.Context, r *request) {
	return func(workCtx context.Context, r *request) {
		ctx, cancel := context.WithTimeoutCause(workCtx, timeout,
			fmt.Errorf("%s: %w after %s", name, errHandlerTimeout, timeout))
		defer cancel()
		start := time.Now()
		log := b.log.With(append(r.fields(), zap.String("handler", name))...)
		err := safely(ctx, h, r)
		if err == nil {
			log.Info("handled", zap.Duration("duration", time.Since(start)))
			return
		}
		if c := context.Cause(ctx); c != nil && errors.Is(c, errHandlerTimeout) {
			err = fmt.Errorf("%w (%v)", err, c)
		}
		var msg string
		var ue *userError
		if errors.As(err, &ue) {
			log.Info("refused", zap.String("reason", ue.msg), zap.Duration("duration", time.Since(start)))
			msg = ue.msg
		} else {
			log.Error("handler failed", zap.Error(err), zap.Duration("duration", time.Since(start)))
			msg = say(b.texts(), templates.OpsError, templates.NoData{})
		}
		// A fresh, short deadline: the handler's may be what ran out, or a
		// shutdown may have cancelled the work: the user is told either way.
		replyCtx, cancelReply := tellContext(workCtx)
		defer cancelReply()
		if err := b.ephemeral(replyCtx, r, msg); err != nil {
			log.Warn("could not tell the user", zap.Error(err))
		}
	}
}

// tellTimeout bounds telling a user how a request ended.
const tellTimeout = 10 * time.Second

// tellContext is the context of telling a user how a request ended: not
// cancelled with ctx (the handler's deadline, or a shutdown that cancelled
// its work, may be what ended it), and bounded by tellTimeout.
func tellContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), tellTimeout)
}

// safely calls h, turning a panic into an error.
func safely(ctx context.Context, h handlerFunc, r *request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, r)
}

// ephemeral shows msg (mrkdwn, already escaped) to the request's user
// only: through the response_url when the payload has one, else
// chat.postEphemeral.
func (b *Bot) ephemeral(ctx context.Context, r *request, msg string, blocks ...slack.Block) error {
	if r.responseURL != "" {
		wm := &slack.WebhookMessage{Text: msg, ResponseType: slack.ResponseTypeEphemeral}
		if len(blocks) > 0 {
			wm.Blocks = &slack.Blocks{BlockSet: blocks}
		}
		return slack.PostWebhookCustomHTTPContext(ctx, r.responseURL, b.httpClient, wm)
	}
	if r.channelID == "" || r.userID == "" {
		return errors.New("no channel or response_url to answer in")
	}
	opts := []slack.MsgOption{slack.MsgOptionText(msg, false)}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	_, err := b.api.PostEphemeralContext(ctx, r.channelID, r.userID, opts...)
	return err
}

// ephemeralPayload is a slash command ack payload shown only to the user.
func ephemeralPayload(msg string) map[string]any {
	return map[string]any{"response_type": "ephemeral", "text": msg}
}

// onSlashCommand acks a slash command at once (with the usage message when
// the input is not understood) and hands the work to the pool.
func (b *Bot) onSlashCommand(ctx context.Context, evt socketmode.Event) {
	cmd, ok := evt.Data.(slack.SlashCommand)
	if !ok || evt.Request == nil {
		return
	}
	envID := evt.Request.EnvelopeID
	b.received(envID, "slash_command")
	r := &request{
		kind: "command", envelopeID: envID, teamID: cmd.TeamID, enterpriseID: cmd.EnterpriseID,
		userID: cmd.UserID, userName: cmd.UserName, channelID: cmd.ChannelID, responseURL: cmd.ResponseURL,
		triggerID: cmd.TriggerID, cmd: &cmd, idem: "cmd:" + cmd.TriggerID,
	}
	if reason := b.untrusted(cmd.TeamID, cmd.EnterpriseID, cmd.APIAppID); reason != "" {
		b.ack(ctx, envID, nil)
		b.log.Warn("dropped a slash command from another workspace, enterprise or app", zap.String("reason", reason),
			zap.String("team", cmd.TeamID), zap.String("enterprise", cmd.EnterpriseID), zap.String("app", cmd.APIAppID),
			zap.String("envelope", envID))
		b.refuseLater(r, reason)
		return
	}
	if reason := b.places.refusal(cmd.ChannelID); reason != "" {
		b.ack(ctx, envID, ephemeralPayload(b.notHere(reason)))
		b.refuseLater(r, reason)
		return
	}
	b.names.remember(cmd.UserID, cmd.UserName)
	route, usage := b.routeCommand(cmd.Text, r)
	p := b.pool
	if route != nil && route.long {
		p = b.long // checklists never hold the workers of interactive work
	}
	switch {
	case route == nil:
		b.ack(ctx, envID, ephemeralPayload(usage))
		return
	case cmd.TriggerID != "" && b.seen.check(r.idem):
		b.ack(ctx, envID, nil)
		b.log.Info("dropped a repeated slash command", r.fields()...)
		return
	}
	// Queued first, acked right after: the ack says "busy" exactly when
	// the queue refused the work (the view workers submit to the same
	// pool, so a look at its room beforehand could be stale).
	run := b.adapt(route.name, route.timeout(b), route.h)
	if !p.submit(func(workCtx context.Context) { run(workCtx, r) }) {
		b.ack(ctx, envID, ephemeralPayload(b.busy()))
		b.log.Warn("no room for a slash command", r.fields()...)
		return
	}
	b.ack(ctx, envID, nil)
}

// onInteractive routes button clicks by action_id and modal submissions by
// callback_id.
func (b *Bot) onInteractive(ctx context.Context, evt socketmode.Event) {
	cb, ok := evt.Data.(slack.InteractionCallback)
	if !ok || evt.Request == nil {
		return
	}
	arrived := time.Now()
	envID := evt.Request.EnvelopeID
	b.received(envID, string(cb.Type))
	base := request{
		envelopeID: envID, teamID: cb.Team.ID, enterpriseID: cb.Enterprise.ID, userID: cb.User.ID, userName: cb.User.Name,
		channelID: cb.Channel.ID, responseURL: cb.ResponseURL, triggerID: cb.TriggerID, cb: &cb,
	}
	if reason := b.untrusted(cb.Team.ID, cb.Enterprise.ID, cb.APIAppID); reason != "" {
		b.ack(ctx, envID, nil)
		b.log.Warn("dropped an interaction from another workspace, enterprise or app", zap.String("reason", reason),
			zap.String("team", cb.Team.ID), zap.String("enterprise", cb.Enterprise.ID), zap.String("app", cb.APIAppID),
			zap.String("envelope", envID))
		b.refuseLater(interactionRequest(base, &cb), reason)
		return
	}
	b.names.remember(cb.User.ID, cb.User.Name)
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		b.ack(ctx, envID, nil)
		for _, a := range cb.ActionCallback.BlockActions {
			route, ok := b.actions[a.ActionID]
			if !ok {
				b.log.Info("click on an unknown action", zap.String("action", a.ActionID))
				continue
			}
			r := base
			r.kind, r.action = "action", a
			ts := a.ActionTs
			if ts == "" {
				ts = cb.ActionTs
			}
			r.idem = "click:" + ts + ":" + a.ActionID
			if ts != "" && b.seen.check(r.idem) {
				b.log.Info("dropped a repeated click", r.fields()...)
				continue
			}
			h := route.h
			if reason := b.places.refusal(r.channelID); reason != "" {
				h = b.refusing(reason)
			}
			run := b.adapt(route.name, b.opts.HandlerTimeout, h)
			if !b.pool.submit(func(workCtx context.Context) { run(workCtx, &r) }) {
				b.log.Warn("no room for a click; dropped", r.fields()...)
			}
		}
	case slack.InteractionTypeViewSubmission:
		route, ok := b.views[cb.View.CallbackID]
		if !ok {
			b.ack(ctx, envID, nil)
			b.log.Info("submission of an unknown view", zap.String("callback", cb.View.CallbackID))
			return
		}
		r := base
		r.kind, r.channelID, r.idem = "view", b.opts.DevChannel, "view:"+cb.View.ID
		// The modal's origin: a form opened before its channel was
		// disallowed is refused too.
		if origin := b.viewOrigin(cb.View); b.places.refusal(origin) != "" {
			reason := b.places.refusal(origin)
			r.channelID = origin
			b.ack(ctx, envID, slack.NewErrorsViewSubmissionResponse(map[string]string{route.busyBlock: b.notHere(reason)}))
			b.refuseLater(&r, reason)
			return
		}
		b.submitView(ctx, route, &r, arrived)
	default:
		// Shortcuts, message actions, view_closed, block_suggestion and
		// kinds Slack adds later: nothing to do, but Slack waits for the
		// ack (and shows the user an error without it).
		b.ack(ctx, envID, nil)
		b.log.Debug("ignored an interaction", zap.String("type", string(cb.Type)), zap.String("envelope", envID))
	}
}

// viewAckWithin is how long after a submission arrived its ack may be
// sent: Slack waits 3 s; the rest is for the ack to travel.
const viewAckWithin = 2 * time.Second

// viewAck is the one ack of a modal submission. Two parties may send it:
// the validation, on a view worker, with its result; and a timer the
// socket reader starts, with "busy, try again", for when the validation
// has not answered viewAckWithin after the submission arrived. The first
// to claim it sends it; the other does nothing.
type viewAck struct {
	claimed atomic.Bool
	timer   *time.Timer // set before the validation is queued
}

// claim reports whether the caller is the one to send the ack.
func (a *viewAck) claim() bool { return a.claimed.CompareAndSwap(false, true) }

// submitView starts a modal submission on the reserved path: its
// validation goes to the view workers, which nothing else uses, so that
// handlers holding the general workers cannot delay the ack; and a timer
// guarantees an ack by viewAckWithin even when the validation hangs or the
// view workers are all busy. Called on the socket reader.
func (b *Bot) submitView(ctx context.Context, route viewRoute, r *request, arrived time.Time) {
	busy := viewBusy(b, route)
	a := &viewAck{}
	a.timer = time.AfterFunc(time.Until(arrived.Add(viewAckWithin)), func() {
		if a.claim() {
			b.log.Warn("a modal submission was not validated in time; answered busy",
				append(r.fields(), zap.Duration("waited", time.Since(arrived)))...)
			b.ack(ctx, r.envelopeID, busy)
		}
	})
	if !b.forms.submit(func(workCtx context.Context) { b.runView(workCtx, route, r, arrived, a) }) && a.claim() {
		a.timer.Stop()
		b.log.Warn("no room to validate a modal submission; answered busy", r.fields()...)
		b.ack(ctx, r.envelopeID, busy)
	}
}

// viewBusy is the ack asking the user to submit again: an error on the
// route's busy block, which keeps the modal open.
func viewBusy(b *Bot, route viewRoute) *slack.ViewSubmissionResponse {
	return slack.NewErrorsViewSubmissionResponse(map[string]string{route.busyBlock: b.busy()})
}

// runView validates a submission (on a view worker), acks it with the
// validation's result unless the reader's timer answered first, and hands
// the work after the ack to the general workers. When they have no room
// the ack is "busy" instead, so that no accepted submission is dropped.
func (b *Bot) runView(workCtx context.Context, route viewRoute, r *request, arrived time.Time, a *viewAck) {
	if a.claimed.Load() {
		return // answered busy while it waited in the queue
	}
	ack, then, err := b.validateView(workCtx, route, r, arrived)
	if err != nil {
		// Closed, and the user told what went wrong, as for other handlers.
		ack, then = nil, func(context.Context, *request) error { return err }
	}
	if !a.claim() {
		b.log.Warn("a modal submission was validated after its busy ack; its result is dropped", r.fields()...)
		return
	}
	a.timer.Stop()
	if then != nil {
		run := b.adapt(route.name, b.opts.HandlerTimeout, then)
		if !b.pool.submit(func(workCtx context.Context) { run(workCtx, r) }) {
			b.log.Warn("no room for a modal submission's work; answered busy", r.fields()...)
			ack = viewBusy(b, route)
		}
	}
	b.ack(workCtx, r.envelopeID, ack)
}

// validateView runs a view handler under a deadline of viewAckWithin from
// arrived. When that deadline has passed (before or during validation), the
// ack is a "busy, try again" error on the route's busy block and there is
// no follow-up work: the user sees the modal still open and resubmits.
func (b *Bot) validateView(workCtx context.Context, route viewRoute, r *request, arrived time.Time) (any, handlerFunc, error) {
	busy := func() (any, handlerFunc, error) {
		b.log.Warn("a modal submission waited too long; answered busy",
			append(r.fields(), zap.Duration("waited", time.Since(arrived)))...)
		return viewBusy(b, route), nil, nil
	}
	deadline := arrived.Add(viewAckWithin)
	if !time.Now().Before(deadline) {
		return busy()
	}
	ctx, cancel := context.WithDeadline(workCtx, deadline)
	defer cancel()
	ack, then, err := safelyView(ctx, route.h, r)
	if ctx.Err() != nil && workCtx.Err() == nil {
		return busy()
	}
	return ack, then, err
}

// safelyView calls a view handler, turning a panic into an error.
func safelyView(ctx context.Context, h viewHandlerFunc, r *request) (ack any, then handlerFunc, err error) {
	defer func() {
		if p := recover(); p != nil {
			ack, then, err = nil, nil, fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, r)
}

// busy is the answer when there is no room for more work.
func (b *Bot) busy() string { return say(b.texts(), templates.OpsBusy, templates.NoData{}) }

// words splits a command's text.
func words(s string) []string { return strings.Fields(s) }
