package bot

import (
	"context"
	"strings"
	"sync"

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/templates"
)

// RefusalLog keeps the audit record of refused requests (store.DB).
// RecordRefusal reports whether r was added: false when its key is already
// recorded, the same request delivered again.
type RefusalLog interface {
	RecordRefusal(ctx context.Context, r opsbot.Refusal) (added bool, err error)
}

// CommandLog remembers which commands ran, across restarts and replicas
// (store.DB). Claim reports whether this call was the first with key.
type CommandLog interface {
	Claim(ctx context.Context, key string) (first bool, err error)
}

// places says where requests may come from: the allowed channels (none:
// any channel) and whether direct messages are allowed.
type places struct {
	dms bool

	mu      sync.Mutex
	allowed map[string]bool // nil: any channel
	order   []string        // allowed, in the order they are shown
}

// newPlaces allows channels (when there are any) and the bot's own
// channels with them: its buttons are in those.
func newPlaces(channels []string, dms bool, own ...string) *places {
	p := &places{dms: dms}
	if len(channels) > 0 {
		p.allowed = map[string]bool{}
		p.add(channels...)
		p.add(own...)
	}
	return p
}

// add allows more channels, when there is an allow-list ("" is skipped).
func (p *places) add(channels ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.allowed == nil {
		return
	}
	for _, c := range channels {
		if c != "" && !p.allowed[c] {
			p.allowed[c] = true
			p.order = append(p.order, c)
		}
	}
}

// refusal is why a request from channel is refused (opsbot.ReasonChannel,
// opsbot.ReasonDirectMessage), "" when it is allowed. Direct message ids
// start with D; a request without a channel passes only when any channel
// does.
func (p *places) refusal(channel string) string {
	if strings.HasPrefix(channel, "D") {
		if p.dms {
			return ""
		}
		return opsbot.ReasonDirectMessage
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.allowed == nil || p.allowed[channel] {
		return ""
	}
	return opsbot.ReasonChannel
}

// mentions are the allowed channels as mrkdwn mentions, "" when any
// channel is.
func (p *places) mentions() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := make([]string, len(p.order))
	for i, c := range p.order {
		m[i] = "<#" + c + ">" // ids from the configuration, checked by New
	}
	return strings.Join(m, ", ")
}

// notHere is what a user refused for reason (ReasonChannel,
// ReasonDirectMessage) reads: where opsbot may be used.
func (b *Bot) notHere(reason string) string {
	return say(b.texts(), templates.OpsNotHere, templates.NotHere{
		DirectMessage: reason == opsbot.ReasonDirectMessage, Channels: b.places.mentions(),
	})
}

// untrusted is why a payload naming team, enterprise and app is not
// accepted (opsbot.ReasonWorkspace, ReasonEnterprise, ReasonApp), "" when
// it is. The enterprise is checked when one is known (configured, or named
// by auth.test): the payload must carry exactly it.
func (b *Bot) untrusted(team, enterprise, app string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case team != b.teamID:
		return opsbot.ReasonWorkspace
	case b.enterpriseID != "" && enterprise != b.enterpriseID:
		return opsbot.ReasonEnterprise
	case b.appID != "" && app != b.appID:
		return opsbot.ReasonApp
	}
	return ""
}

// refusing is the handler of a click refused for reason: the refusal is
// recorded, and the user told where opsbot may be used.
func (b *Bot) refusing(reason string) handlerFunc {
	return func(ctx context.Context, r *request) error {
		b.recordRefusal(ctx, r, reason)
		return userErr(b.notHere(reason))
	}
}

// refuseLater records r's refusal in a worker: the socket reader never
// waits for the store. It works on a copy: the caller may go on changing
// r (answer moves it to another channel).
func (b *Bot) refuseLater(r *request, reason string) {
	rc := *r
	ok := b.pool.submit(func(workCtx context.Context) {
		ctx, cancel := context.WithTimeout(workCtx, b.opts.HandlerTimeout)
		defer cancel()
		b.recordRefusal(ctx, &rc, reason)
	})
	if !ok {
		b.opts.Metrics.Refused(reason)
		b.log.Error("no room to record a refusal; it is only in this log",
			append(r.fields(), zap.String("reason", reason), zap.String("action", b.actionOf(r)))...)
	}
}

// recordRefusal adds r's refusal to the audit record, once per request
// whatever the number of deliveries, and counts it
// (opsbot_refusals_total). A refusal that cannot be recorded is logged at
// error level and counted anyway.
func (b *Bot) recordRefusal(ctx context.Context, r *request, reason string) {
	rf := opsbot.Refusal{
		Key: refusalKey(r), At: b.opts.Now(), UserID: storedID(r.userID), TeamID: storedID(r.teamID),
		EnterpriseID: storedID(r.enterpriseID), Channel: storedID(r.channelID), Action: b.actionOf(r), Reason: reason,
	}
	log := b.log.With(append(r.fields(), zap.String("reason", reason), zap.String("action", rf.Action))...)
	added, err := b.opts.Refusals.RecordRefusal(ctx, rf)
	switch {
	case err != nil:
		b.opts.Metrics.Refused(reason)
		log.Error("could not record a refusal; it is only in this log", zap.Error(err))
	case added:
		b.opts.Metrics.Refused(reason)
		log.Info("refusal recorded")
	default:
		log.Info("refusal already recorded (delivered again)")
	}
}

// refusalKey is r's idempotency key in the audit record: Slack ids that
// stay the same when the request is delivered again (its envelope id does
// not).
func refusalKey(r *request) string {
	var key string
	switch {
	case r.kind == "view" && r.cb != nil && r.triggerID != "":
		key = "view:" + r.cb.View.ID + ":" + r.triggerID
	case r.kind == "command" && r.triggerID != "":
		key = "cmd:" + r.triggerID
	case r.kind == "action" && r.idem != "":
		key = r.idem
	default:
		key = "envelope:" + r.envelopeID
	}
	return strings.Map(func(c rune) rune {
		if c < ' ' || c == 0x7f {
			return -1
		}
		return c
	}, opsbot.Truncate(opsbot.CleanText(key), opsbot.MaxIDLen))
}

// storedID is a Slack id from a payload as the audit record keeps it: an
// id is upper-case letters and digits; anything else is not copied.
func storedID(id string) string {
	if id == "" {
		return ""
	}
	if len(id) > 40 {
		return "(not a Slack id)"
	}
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "(not a Slack id)"
		}
	}
	return id
}

// actionOf names what r tried, in opsbot's words (never the user's text):
// "/ops checklist", an action_id or a callback_id of the bot's.
func (b *Bot) actionOf(r *request) string {
	switch r.kind {
	case "command":
		if r.cmd != nil {
			if f := words(r.cmd.Text); len(f) > 0 {
				if sub := strings.ToLower(f[0]); b.commands[sub].name != "" {
					return "/ops " + sub
				}
			}
		}
		return "/ops"
	case "action":
		if r.action != nil {
			if _, ok := b.actions[r.action.ActionID]; ok {
				return r.action.ActionID
			}
		}
		return "unknown button"
	case "view":
		if r.cb != nil {
			if _, ok := b.views[r.cb.View.CallbackID]; ok {
				return r.cb.View.CallbackID
			}
		}
		return "unknown form"
	}
	return "interaction"
}

// interactionRequest is the request of an interaction as a whole (its
// first action, for a click): what is recorded when the payload itself is
// refused.
func interactionRequest(base request, cb *slack.InteractionCallback) *request {
	r := base
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		r.kind = "action"
		if as := cb.ActionCallback.BlockActions; len(as) > 0 {
			r.action = as[0]
			ts := as[0].ActionTs
			if ts == "" {
				ts = cb.ActionTs
			}
			if ts != "" {
				r.idem = "click:" + ts + ":" + as[0].ActionID
			}
		}
	case slack.InteractionTypeViewSubmission:
		r.kind = "view"
	default:
		r.kind = string(cb.Type)
	}
	return &r
}

// viewOrigin is the channel a modal was opened from: the incident form
// carries it in its private_metadata; the decision modal is opened from a
// button on an anomaly's root message, in the dev channel. "" when the
// metadata cannot be read (refused where there is an allow-list).
func (b *Bot) viewOrigin(v slack.View) string {
	if v.CallbackID == CallbackIncident {
		f, err := parseIncidentForm(v.PrivateMetadata)
		if err != nil {
			return ""
		}
		return f.Channel
	}
	return b.opts.DevChannel
}
