package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/opsbot/opsbot/history"
	"github.com/opsbot/opsbot/noise"
	"github.com/opsbot/opsbot/templates"
)

// historyTime is how `/ops history` writes a time: in UTC, as `opsbot
// history` does.
const historyTime = "2006-01-02 15:04 UTC"

// maxHistoryConclusion is how much of a hit's conclusion `/ops history`
// shows, in characters.
const maxHistoryConclusion = 160

// parseHistory checks `/ops history <words>`: a query history.Parse
// accepts.
func parseHistory(b *Bot, r *request) string {
	if _, err := history.Parse(r.rest); err != nil {
		return b.badQuery(err)
	}
	return ""
}

// badQuery is the refusal of a query history.Parse did not accept.
func (b *Bot) badQuery(err error) string {
	var qe *history.QueryError
	if !errors.As(err, &qe) {
		return say(b.texts(), templates.OpsError, templates.NoData{})
	}
	return say(b.texts(), templates.HistoryBadQuery, templates.BadQuery{Reason: Escape(truncate(qe.Reason, 300))})
}

// handleHistory answers `/ops history <words>` with the anomalies found,
// to the user only. Anyone who may use /ops in the channel may search, as
// they may read /ops status and /ops noise: it shows what the anomalies'
// threads already show, and changes nothing.
func (b *Bot) handleHistory(ctx context.Context, r *request) error {
	if b.opts.History == nil {
		return b.ephemeral(ctx, r, say(b.texts(), templates.HistoryNotSetUp, templates.NoData{}))
	}
	res, err := history.Find(ctx, b.opts.History, r.rest, b.opts.Now())
	var qe *history.QueryError
	if errors.As(err, &qe) { // checked by parseHistory; the templates may differ
		return userErr(b.badQuery(err))
	}
	if err != nil {
		return fmt.Errorf("history search: %w", err)
	}
	msg, blocks := historyMessage(b.texts(), r.rest, res, func(h history.Hit) string {
		if h.Channel == "" || h.ThreadTS == "" {
			return ""
		}
		return b.permalink(ctx, h.Channel, h.ThreadTS)
	})
	return b.ephemeral(ctx, r, msg, blocks...)
}

// historyMessage is `/ops history`'s answer to query: its text and blocks
// (none when nothing matches), each hit with permalink(hit), its thread's
// permalink ("" when there is none).
func historyMessage(tx texts, query string, res history.Result, permalink func(history.Hit) string) (string, []slack.Block) {
	q := templates.HistoryQuery{Query: escapeLine(query, 100), Total: res.Total, Shown: len(res.Hits)}
	if res.Total == 0 {
		return say(tx, templates.HistoryNone, q), nil
	}
	header := say(tx, templates.HistoryHeader, q)
	lines := []string{header}
	for _, h := range res.Hits {
		line := templates.HistoryHit{AnomalyID: h.AnomalyID, Environment: Escape(h.Environment),
			Title: escapeLine(h.Title, 120), Conclusion: escapeLine(h.Conclusion, maxHistoryConclusion),
			At: h.At.UTC().Format(historyTime), HasThread: h.Channel != "" && h.ThreadTS != ""}
		if h.Decision != "" {
			line.Decision, line.DecidedBy = noise.DecisionLabel(h.Decision), actor(h.DecidedBy)
		}
		if h.Ticket != "" {
			line.Ticket = Link(h.Ticket, "ticket")
		}
		if link := permalink(h); link != "" {
			line.Thread = Link(link, "thread")
		}
		lines = append(lines, say(tx, templates.HistoryLine, line))
	}
	return header, packSections(tx, lines, maxMessageBlocks)
}
