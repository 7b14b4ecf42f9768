package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

// handleInvestigate opens (or links to) the anomaly thread of a finding
// from a checklist report; the finding is read from the stored run the
// button's value names (checklist.RunStore), so any replica, restarted or
// not, handles the click.
func (b *Bot) handleInvestigate(ctx context.Context, r *request) error {
	if err := b.authorize(ctx, r, "investigate anomalies"); err != nil {
		return err
	}
	runID, idx, ok := parseInvestigateValue(r.action.Value)
	if !ok {
		return userErr(say(b.texts(), templates.ChecklistStale, templates.NoData{}))
	}
	f, env, found, err := b.runs.RunFinding(ctx, runID, idx)
	if err != nil {
		return fmt.Errorf("reading finding %d of checklist run %d: %w", idx, runID, err)
	}
	if !found {
		return userErr(say(b.texts(), templates.ChecklistStale, templates.NoData{}))
	}
	return b.openAnomaly(ctx, r, triage.FindingAnomaly(env, f, r.userID, b.opts.Now()))
}

// oneLine joins a text's lines.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// handleManualAnomaly is `/ops anomaly <title>`: an investigation started
// by hand, in the default environment.
func (b *Bot) handleManualAnomaly(ctx context.Context, r *request) error {
	if err := b.authorize(ctx, r, "open anomalies"); err != nil {
		return err
	}
	return b.openAnomaly(ctx, r, triage.ManualAnomaly(b.opts.DefaultEnvironment, r.rest, r.userID, b.opts.Now()))
}

// openAnomaly opens the anomaly (triage.Service.Open: idempotent on the
// request's key, one thread however many replicas post one) and tells the
// user where its thread is, before anyone can decide on it.
func (b *Bot) openAnomaly(ctx context.Context, r *request, in triage.Anomaly) error {
	_, err := b.triage.Open(ctx, in, r.idem, func(ctx context.Context, o triage.Opened) error {
		a := o.Anomaly
		link := b.permalink(ctx, a.Channel, a.ThreadTS)
		if o.Created || o.Posted {
			return b.ephemeral(ctx, r, say(b.texts(), templates.TriageOpened, templates.Anomaly{ID: a.ID, Thread: Link(link, "thread")}))
		}
		return b.ephemeral(ctx, r, say(b.texts(), templates.TriageExisting, templates.Anomaly{ID: a.ID, Thread: Link(link, "the thread")}))
	})
	var ve *opsbot.ValidationError
	switch {
	case errors.As(err, &ve):
		return userErr(say(b.texts(), templates.TriageInvalid, templates.Problem{Problem: Escape(ve.Error())}))
	case errors.Is(err, opsbot.ErrNotRecorded):
		b.log.Error("an anomaly's thread was not opened: the store failed", append(r.fields(), zap.Error(err))...)
		return userErr(say(b.texts(), templates.TriageNotRecorded, templates.NoData{}))
	}
	return err
}
