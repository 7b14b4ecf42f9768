package bot

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

// maxTipLines bounds `/ops tip list`.
const maxTipLines = 100

// parseTip checks `/ops tip ...`: "list", "remove <id>", or a pattern and
// a text. The pattern and the text are checked by the store (Tip.Validate),
// which says what is wrong with them.
func parseTip(b *Bot, r *request) string {
	switch {
	case len(r.args) == 0:
		return say(b.texts(), templates.TipUsage, templates.NoData{})
	case strings.EqualFold(r.args[0], "list") && len(r.args) == 1:
		return ""
	case strings.EqualFold(r.args[0], "remove"):
		if len(r.args) != 2 {
			return say(b.texts(), templates.TipRemoveWhich, templates.NoData{})
		}
		if id, err := strconv.ParseInt(strings.TrimPrefix(r.args[1], "#"), 10, 64); err != nil || id <= 0 {
			return say(b.texts(), templates.TipRemoveWhich, templates.NoData{})
		}
		return ""
	case len(r.args) < 2:
		return say(b.texts(), templates.TipUsage, templates.NoData{})
	}
	return ""
}

// handleTip is `/ops tip`: list the tips (anyone who may use /ops), add or
// remove one (deciders).
func (b *Bot) handleTip(ctx context.Context, r *request) error {
	switch {
	case strings.EqualFold(r.args[0], "list"):
		return b.listTips(ctx, r)
	case strings.EqualFold(r.args[0], "remove"):
		if err := b.authorize(ctx, r, "remove runbook tips"); err != nil {
			return err
		}
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.args[1], "#"), 10, 64)
		t, err := b.triage.RemoveTip(ctx, id, r.userID, r.idem)
		if err != nil {
			return b.tipError(r, err, id)
		}
		return b.ephemeral(ctx, r, say(b.texts(), templates.TipRemoved, b.tipData(ctx, t)))
	}
	if err := b.authorize(ctx, r, "add runbook tips"); err != nil {
		return err
	}
	pattern := r.args[0]
	text := strings.TrimSpace(strings.TrimPrefix(r.rest, pattern))
	t, err := b.triage.AddTip(ctx, triage.Tip{Pattern: pattern, Text: text, Author: r.userID, CreatedAt: b.opts.Now()}, r.idem)
	if err != nil {
		return b.tipError(r, err, 0)
	}
	return b.ephemeral(ctx, r, say(b.texts(), templates.TipAdded, b.tipData(ctx, t)))
}

// tipError tells the user why a tip (id, when removing) was not added
// or removed.
func (b *Bot) tipError(r *request, err error, id int64) error {
	var ve *opsbot.ValidationError
	switch {
	case errors.As(err, &ve):
		return userErr(say(b.texts(), templates.TipInvalid, templates.Problem{Problem: Escape(ve.Error())}))
	case errors.Is(err, triage.ErrTipNotFound):
		return userErr(say(b.texts(), templates.TipNotFound, templates.Tip{ID: id}))
	case errors.Is(err, triage.ErrTooManyTips):
		return userErr(say(b.texts(), templates.TipTooMany, templates.Count{Count: triage.MaxTips}))
	}
	b.log.Error("a tip was not recorded: the store failed", append(r.fields(), zap.Error(err))...)
	return userErr(say(b.texts(), templates.TipNotRecorded, templates.NoData{}))
}

// listTips answers `/ops tip list`, to the user only.
func (b *Bot) listTips(ctx context.Context, r *request) error {
	tips, err := b.triage.Tips(ctx)
	if err != nil {
		b.log.Error("could not list the tips", append(r.fields(), zap.Error(err))...)
		return userErr(say(b.texts(), templates.TipNotRecorded, templates.NoData{}))
	}
	data := make([]templates.Tip, len(tips))
	for i, t := range tips {
		data[i] = b.tipData(ctx, t)
	}
	msg, blocks := tipListMessage(b.texts(), data)
	return b.ephemeral(ctx, r, msg, blocks...)
}

// tipListMessage is `/ops tip list`'s answer: its text and blocks (none
// when there are no tips), a line per tip, within Slack's limits.
func tipListMessage(tx texts, tips []templates.Tip) (string, []slack.Block) {
	if len(tips) == 0 {
		return say(tx, templates.TipNone, templates.NoData{}), nil
	}
	header := say(tx, templates.TipListHeader, templates.Count{Count: len(tips)})
	lines := []string{header}
	for i, t := range tips {
		if i == maxTipLines {
			lines = append(lines, say(tx, templates.ChecklistMore, templates.Count{Count: len(tips) - i}))
			break
		}
		lines = append(lines, say(tx, templates.TipListLine, t))
	}
	return header, packSections(tx, lines, maxMessageBlocks)
}

// tipData is what the texts show of tip t: its pattern and text escaped,
// its author's name.
func (s *Slack) tipData(ctx context.Context, t triage.Tip) templates.Tip {
	return tipTemplateData(checks.Tip{ID: t.ID, Pattern: t.Pattern, Text: t.Text, Author: t.Author},
		s.names.display(ctx, t.Author), fmtTime(t.CreatedAt))
}

// tipTemplateData is tip t for the texts; author is who added it
// ("@alice", escaped), created when ("" when not shown).
func tipTemplateData(t checks.Tip, author, created string) templates.Tip {
	return templates.Tip{ID: t.ID, Pattern: escapeLine(t.Pattern, 200), Text: escapeLine(t.Text, triage.MaxTipTextLen),
		Author: author, Created: created}
}

// tipLines renders the tips under a finding or on a root message, one a
// line ("" for none).
func (s *Slack) tipLines(ctx context.Context, tx texts, tips []checks.Tip) string {
	lines := make([]string, len(tips))
	for i, t := range tips {
		lines[i] = say(tx, templates.TriageTip, tipTemplateData(t, s.names.display(ctx, t.Author), ""))
	}
	return strings.Join(lines, "\n")
}
