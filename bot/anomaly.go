package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/telemetry"
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
	o, err := b.openAnomaly(ctx, r, triage.FindingAnomaly(env, f, r.userID, b.opts.Now()))
	if err == nil && o.Posted {
		b.postChart(ctx, env, f, o.Anomaly)
	}
	return err
}

// oneLine joins a text's lines.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// handleManualAnomaly is `/ops anomaly <title>`: an investigation started
// by hand, in the default environment.
func (b *Bot) handleManualAnomaly(ctx context.Context, r *request) error {
	if err := b.authorize(ctx, r, "open anomalies"); err != nil {
		return err
	}
	_, err := b.openAnomaly(ctx, r, triage.ManualAnomaly(b.opts.DefaultEnvironment, r.rest, r.userID, b.opts.Now()))
	return err
}

// openAnomaly opens the anomaly (triage.Service.Open: idempotent on the
// request's key, one thread however many replicas post one) and tells the
// user where its thread is, before anyone can decide on it.
func (b *Bot) openAnomaly(ctx context.Context, r *request, in triage.Anomaly) (triage.Opened, error) {
	o, err := b.triage.Open(ctx, in, r.idem, func(ctx context.Context, o triage.Opened) error {
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
		return o, userErr(say(b.texts(), templates.TriageInvalid, templates.Problem{Problem: Escape(ve.Error())}))
	case errors.Is(err, opsbot.ErrNotRecorded):
		b.log.Error("an anomaly's thread was not opened: the store failed", append(r.fields(), zap.Error(err))...)
		return o, userErr(say(b.texts(), templates.TriageNotRecorded, templates.NoData{}))
	}
	return o, err
}

// Charts draws findings' charts; checklist.Charts implements it.
type Charts interface {
	// Chart draws f's chart as seen in env; ok is false, without an
	// error, when there is nothing to draw.
	Chart(ctx context.Context, env string, f checks.Finding) (c checklist.Chart, ok bool, err error)
}

// chartTimeout bounds drawing and uploading one thread's chart.
const chartTimeout = 30 * time.Second

// postChart shares f's chart in anomaly a's thread, just posted. It runs
// after the thread is recorded and the user told where it is, and its
// failure is only logged and counted (opsbot_charts_total{outcome}): a
// chart never holds up or loses a thread or a decision.
func (b *Bot) postChart(ctx context.Context, env string, f checks.Finding, a triage.Anomaly) {
	if b.opts.Charts == nil || f.Chart == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), chartTimeout)
	defer cancel()
	log := b.log.With(zap.Int64("anomaly", a.ID), zap.String("fingerprint", f.Fingerprint))
	c, ok, err := b.opts.Charts.Chart(ctx, env, f)
	if err == nil && ok {
		err = b.uploadFile(ctx, a.Channel, a.ThreadTS, file{Name: c.Name, Title: c.Title, AltText: c.AltText, Data: c.PNG})
	}
	switch {
	case err != nil:
		log.Warn("could not post the anomaly's chart; its thread stays as it is", zap.Error(err))
		b.opts.Metrics.Chart(telemetry.ChartFailed)
	case !ok:
		b.opts.Metrics.Chart(telemetry.ChartNone)
	default:
		b.opts.Metrics.Chart(telemetry.ChartPosted)
	}
}
