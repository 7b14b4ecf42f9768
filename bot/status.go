package bot

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/opsbot/opsbot/templates"
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
	msg, blocks := statusMessage(b.texts(), open, func(a triage.Anomaly) string { return b.threadPermalink(ctx, a) })
	return b.ephemeral(ctx, r, msg, blocks...)
}

// statusMessage is `/ops status`'s answer listing the open anomalies, each
// with permalink(a), its thread's permalink ("" when there is none; called
// for the anomalies shown only): its text and blocks (none when nothing is
// open).
func statusMessage(tx texts, open []triage.Anomaly, permalink func(triage.Anomaly) string) (string, []slack.Block) {
	if len(open) == 0 {
		return say(tx, templates.StatusNone, templates.NoData{}), nil
	}
	header := say(tx, templates.StatusHeader, templates.Count{Count: len(open)})
	lines := []string{header}
	for i, a := range open {
		if i == maxStatusLines {
			lines = append(lines, say(tx, templates.ChecklistMore, templates.Count{Count: len(open) - i}))
			break
		}
		lines = append(lines, statusLine(tx, a, permalink(a)))
	}
	return header, packSections(tx, lines, maxMessageBlocks)
}

// threadPermalink is the permalink of a's thread; "" when it has none or
// Slack gave none.
func (b *Bot) threadPermalink(ctx context.Context, a triage.Anomaly) string {
	if !a.HasThread() {
		return ""
	}
	return b.permalink(ctx, a.Channel, a.ThreadTS)
}

// statusLine is anomaly a in the list, with its thread's permalink ("" for
// none).
func statusLine(tx texts, a triage.Anomaly, permalink string) string {
	line := templates.OpenAnomaly{
		ID: a.ID, Title: escapeLine(a.Title, 120), Environment: Escape(a.Environment),
		Escalated: !a.EscalatedAt.IsZero(), HasThread: a.HasThread(),
	}
	if a.Decision != nil {
		line.Decision = a.Decision.Decision.Label()
	}
	if line.HasThread && permalink != "" {
		line.Thread = Link(permalink, "thread")
	}
	return say(tx, templates.StatusLine, line)
}
