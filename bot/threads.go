package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/triage"
)

// threads is triage.Threads in Slack: the anomalies' threads in the dev
// channel, their root messages and replies rendered as Block Kit.
type threads struct{ b *Bot }

var _ triage.Threads = threads{}

// PostRoot posts a's root message in the dev channel.
func (t threads) PostRoot(ctx context.Context, a triage.Anomaly) (channel, ts string, err error) {
	b := t.b
	v := rootView{Anomaly: a, Opener: b.names.display(ctx, a.OpenedBy)}
	return b.api.PostMessageContext(ctx, b.opts.DevChannel,
		slack.MsgOptionText(rootFallback(v), false), slack.MsgOptionBlocks(rootBlocks(v)...))
}

// DeleteRoot deletes a root message; Slack's message_not_found matches
// opsbot.ErrNotFound.
func (t threads) DeleteRoot(ctx context.Context, channel, ts string) error {
	_, _, err := t.b.api.DeleteMessageContext(ctx, channel, ts)
	var sr slack.SlackErrorResponse
	if errors.As(err, &sr) && sr.Err == "message_not_found" {
		return fmt.Errorf("%w: %w", opsbot.ErrNotFound, err)
	}
	return err
}

// UpdateRoot re-renders an anomaly's root message from the store's view
// of it.
func (t threads) UpdateRoot(ctx context.Context, a triage.Anomaly) error {
	b := t.b
	v := rootView{Anomaly: a, Opener: b.names.display(ctx, a.OpenedBy)}
	if a.Decision != nil {
		v.Decider = b.names.display(ctx, a.Decision.DecidedBy)
	}
	return b.update(ctx, a.Channel, a.ThreadTS,
		slack.MsgOptionText(rootFallback(v), false), slack.MsgOptionBlocks(rootBlocks(v)...))
}

// ReplyDecision posts the decision in the anomaly's thread: blocks within
// Slack's limits, else (Slack refused them) a plain-text reply.
func (t threads) ReplyDecision(ctx context.Context, a triage.Anomaly, rec triage.DecisionRecord) error {
	b := t.b
	decider := b.names.display(ctx, rec.DecidedBy)
	fallback, blocks := b.decisionReply(a.ID, rec, decider)
	_, _, err := b.api.PostMessageContext(ctx, a.Channel, slack.MsgOptionTS(a.ThreadTS),
		slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...))
	if err == nil {
		return nil
	}
	var sr slack.SlackErrorResponse
	if !errors.As(err, &sr) || isChannelProblem(err) {
		return err
	}
	b.log.Warn("Slack refused a decision reply; posting it as plain text", zap.Int64("anomaly", a.ID), zap.Error(err))
	plainText := fallback + "\n" + clip(b.followUpText(shownRecord(rec), decider), 2000)
	if _, _, err2 := b.api.PostMessageContext(ctx, a.Channel, slack.MsgOptionTS(a.ThreadTS),
		slack.MsgOptionText(plainText, false)); err2 != nil {
		return errors.Join(err, err2)
	}
	return nil
}

// ReplySeenAgain posts "seen again" in the anomaly's thread.
func (t threads) ReplySeenAgain(ctx context.Context, a triage.Anomaly, r triage.Recurrence) error {
	msg, blocks := seenAgainMessage(r)
	return t.reply(ctx, a, msg, blocks)
}

// ReplyEscalated posts the escalation in the anomaly's thread, mentioning
// the ops group.
func (t threads) ReplyEscalated(ctx context.Context, a triage.Anomaly, r triage.Recurrence) error {
	msg, blocks := escalationMessage(Mention(t.b.opts.OpsGroup), r)
	return t.reply(ctx, a, msg, blocks)
}

// reply posts a message in the anomaly's thread.
func (t threads) reply(ctx context.Context, a triage.Anomaly, fallback string, blocks []slack.Block) error {
	_, _, err := t.b.api.PostMessageContext(ctx, a.Channel, slack.MsgOptionTS(a.ThreadTS),
		slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...))
	return err
}
