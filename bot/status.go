package bot

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/opsbot/opsbot/triage"
)

// maxStatusLines bounds `/ops status` (one permalink lookup each).
const maxStatusLines = 40

// handleStatus lists the open anomalies with links to their threads, to
// the user only.
func (b *Bot) handleStatus(ctx context.Context, r *request) error {
	open, err := b.triage.ListOpen(ctx, "")
	if err != nil {
		return fmt.Errorf("listing open anomalies: %w", err)
	}
	msg, blocks := statusMessage(open, func(a triage.Anomaly) string { return b.threadLink(ctx, a) })
	return b.ephemeral(ctx, r, msg, blocks...)
}

// statusMessage is `/ops status`'s answer listing the open anomalies, each
// with link(a), its thread's link (called for the anomalies shown only):
// its text and blocks (none when nothing is open).
func statusMessage(open []triage.Anomaly, link func(triage.Anomaly) string) (string, []slack.Block) {
	if len(open) == 0 {
		return text(tStatusNone), nil
	}
	lines := []string{text(tStatusHeader, len(open))}
	for i, a := range open {
		if i == maxStatusLines {
			lines = append(lines, text(tChecklistMore, len(open)-i))
			break
		}
		lines = append(lines, statusLine(a, link(a)))
	}
	return text(tStatusHeader, len(open)), packSections(lines, maxMessageBlocks)
}

func (b *Bot) threadLink(ctx context.Context, a triage.Anomaly) string {
	if !a.HasThread() {
		return threadLinkText(a, "")
	}
	return threadLinkText(a, b.permalink(ctx, a.Channel, a.ThreadTS))
}

// threadLinkText is threadLink given the thread's permalink ("" when Slack
// gave none).
func threadLinkText(a triage.Anomaly, permalink string) string {
	if !a.HasThread() {
		return "no thread yet"
	}
	if permalink != "" {
		return Link(permalink, "thread")
	}
	return "thread unavailable"
}

func statusLine(a triage.Anomaly, link string) string {
	state := "no decision yet"
	if a.Decision != nil {
		state = a.Decision.Decision.Label()
	}
	if !a.EscalatedAt.IsZero() {
		state += ", escalated"
	}
	return text(tStatusLine, a.ID, escapeLine(a.Title, 120), Escape(a.Environment), state, link)
}
