package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

// ThreadsOptions configure the anomalies' threads.
type ThreadsOptions struct {
	// DevChannel is where anomaly threads are opened (a channel id).
	DevChannel string
	// OpsGroup is the user group mentioned when an anomaly is escalated
	// (S...); empty: no mention.
	OpsGroup string
	// Templates are the message texts (default: templates.New("")).
	Templates *templates.Set
	// AnnounceButton puts the Announce incident button under a Serious
	// decision: the incident procedure is set up (Options.Incidents).
	AnnounceButton bool
	Logger         *zap.Logger
}

// NewThreads returns triage.Threads in Slack, on sl: the anomalies' threads
// in the dev channel, their root messages and replies rendered as Block
// Kit.
func NewThreads(sl *Slack, o ThreadsOptions) (triage.Threads, error) {
	var errs []error
	if sl == nil {
		errs = append(errs, errors.New("a Slack client is required (NewSlack)"))
	}
	if !validSlackID(o.DevChannel, "C", "G") {
		errs = append(errs, fmt.Errorf("devChannel: want a channel id (C...), got %q", o.DevChannel))
	}
	if o.OpsGroup != "" && !validSlackID(o.OpsGroup, "S") {
		errs = append(errs, fmt.Errorf("opsGroup: want a user group id (S...), got %q", o.OpsGroup))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("threads: %w", err)
	}
	if o.Templates == nil {
		t, err := templates.New("")
		if err != nil {
			return nil, err
		}
		o.Templates = t
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return threads{Slack: sl, dev: o.DevChannel, opsGroup: o.OpsGroup,
		texts: decisionTexts{tmpl: o.Templates, log: o.Logger, announce: o.AnnounceButton}}, nil
}

type threads struct {
	*Slack
	dev, opsGroup string
	texts         decisionTexts
}

// PostRoot posts a's root message in the dev channel, with what was
// decided last time about its fingerprint and its tips (m).
func (t threads) PostRoot(ctx context.Context, a triage.Anomaly, m triage.Memory) (channel, ts string, err error) {
	v := rootView{Anomaly: a, Opener: t.names.display(ctx, a.OpenedBy)}
	tx := t.texts.tx()
	t.rootMemory(ctx, tx, &v, m)
	return t.api.PostMessageContext(ctx, t.dev,
		slack.MsgOptionText(rootFallback(tx, v), false), slack.MsgOptionBlocks(rootBlocks(tx, v)...))
}

// DeleteRoot deletes a root message; Slack's message_not_found matches
// opsbot.ErrNotFound.
func (t threads) DeleteRoot(ctx context.Context, channel, ts string) error {
	_, _, err := t.api.DeleteMessageContext(ctx, channel, ts)
	var sr slack.SlackErrorResponse
	if errors.As(err, &sr) && sr.Err == "message_not_found" {
		return fmt.Errorf("%w: %w", opsbot.ErrNotFound, err)
	}
	return err
}

// UpdateRoot re-renders an anomaly's root message from the store's view
// of it.
func (t threads) UpdateRoot(ctx context.Context, a triage.Anomaly, m triage.Memory) error {
	v := rootView{Anomaly: a, Opener: t.names.display(ctx, a.OpenedBy)}
	if a.Decision != nil {
		v.Decider = t.names.display(ctx, a.Decision.DecidedBy)
	}
	tx := t.texts.tx()
	t.rootMemory(ctx, tx, &v, m)
	return t.update(ctx, a.Channel, a.ThreadTS,
		slack.MsgOptionText(rootFallback(tx, v), false), slack.MsgOptionBlocks(rootBlocks(tx, v)...))
}

// ReplyDecision posts the decision in the anomaly's thread: blocks within
// Slack's limits, else (Slack refused them) a plain-text reply.
func (t threads) ReplyDecision(ctx context.Context, a triage.Anomaly, rec triage.DecisionRecord) error {
	decider := t.names.display(ctx, rec.DecidedBy)
	fallback, blocks := t.texts.decisionReply(a.ID, rec, decider)
	_, _, err := t.api.PostMessageContext(ctx, a.Channel, slack.MsgOptionTS(a.ThreadTS),
		slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...))
	if err == nil {
		return nil
	}
	var sr slack.SlackErrorResponse
	if !errors.As(err, &sr) || channelUnusable(err) {
		return err
	}
	t.log.Warn("Slack refused a decision reply; posting it as plain text", zap.Int64("anomaly", a.ID), zap.Error(err))
	plainText := fallback + "\n" + clip(t.texts.followUpText(shownRecord(t.texts.tx(), rec), decider), 2000)
	if _, _, err2 := t.api.PostMessageContext(ctx, a.Channel, slack.MsgOptionTS(a.ThreadTS),
		slack.MsgOptionText(plainText, false)); err2 != nil {
		return errors.Join(err, err2)
	}
	return nil
}

// ReplySeenAgain posts "seen again" in the anomaly's thread.
func (t threads) ReplySeenAgain(ctx context.Context, a triage.Anomaly, r triage.Recurrence) error {
	msg, blocks := seenAgainMessage(t.texts.tx(), r)
	return t.reply(ctx, a, msg, blocks)
}

// ReplyEscalated posts the escalation in the anomaly's thread, mentioning
// the ops group.
func (t threads) ReplyEscalated(ctx context.Context, a triage.Anomaly, reason string) error {
	msg, blocks := escalationMessage(t.texts.tx(), Mention(t.opsGroup), reason)
	return t.reply(ctx, a, msg, blocks)
}

// reply posts a message in the anomaly's thread.
func (t threads) reply(ctx context.Context, a triage.Anomaly, fallback string, blocks []slack.Block) error {
	_, _, err := t.api.PostMessageContext(ctx, a.Channel, slack.MsgOptionTS(a.ThreadTS),
		slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...))
	return err
}
