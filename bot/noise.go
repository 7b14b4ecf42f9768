package bot

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/opsbot/opsbot/noise"
	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/templates"
)

// noiseDay and noiseTime are how the noise report writes a day and a time:
// in UTC, as its days are, so that `/ops noise` and `opsbot noise` read
// the same.
const (
	noiseDay  = "2006-01-02"
	noiseTime = "2006-01-02 15:04 UTC"
)

// maxNoiseLines bounds each list of `/ops noise` (undecided, mis-triaged),
// so that a long one never pushes the next out of the message.
const maxNoiseLines = 20

// maxSilenceLines bounds each list of silences of `/ops noise`, whose
// lines are longer (matchers): with the other lists full, the message
// stays within Slack's size.
const maxSilenceLines = 10

// parseNoise checks `/ops noise [days]`: at most one word, a number of
// days from 1 to noise.MaxDays.
func parseNoise(b *Bot, r *request) string {
	if _, ok := noiseDays(r.args); !ok {
		return say(b.texts(), templates.NoiseBadDays, templates.BadDays{
			Given: Escape(truncate(strings.Join(r.args, " "), 50)), Max: noise.MaxDays})
	}
	return ""
}

// noiseDays is the period `/ops noise` asks for: noise.DefaultDays
// without a word; ok is false unless args is one number of days from 1 to
// noise.MaxDays.
func noiseDays(args []string) (days int, ok bool) {
	switch len(args) {
	case 0:
		return noise.DefaultDays, true
	case 1:
		n, err := strconv.Atoi(args[0])
		return n, err == nil && noise.CheckDays(n) == nil
	}
	return 0, false
}

// handleNoise answers `/ops noise [days]` with the noise report, to the
// user only. Anyone who may use /ops in the channel may read it, as they
// may read /ops status: it shows what the anomalies' threads already show
// to the channel, and changes nothing.
func (b *Bot) handleNoise(ctx context.Context, r *request) error {
	if b.opts.Noise == nil {
		return b.ephemeral(ctx, r, say(b.texts(), templates.NoiseNotSetUp, templates.NoData{}))
	}
	days, _ := noiseDays(r.args) // checked by parseNoise
	rep, err := noise.Build(ctx, b.opts.Noise, b.opts.NoiseAlertmanagers, days, b.opts.Now())
	if err != nil {
		return fmt.Errorf("noise report: %w", err)
	}
	msg, blocks := noiseMessage(b.texts(), rep)
	return b.ephemeral(ctx, r, msg, blocks...)
}

// noiseMessage is the noise report in Block Kit: its fallback text (the
// header) and its blocks: the header, the sightings per day, the most-seen
// fingerprints, the alerts that fired most, the undecided anomalies, the
// mis-triage rate, the stale and often-extended silences and what it does
// not cover yet.
func noiseMessage(tx texts, rep noise.Report) (string, []slack.Block) {
	header := say(tx, templates.NoiseHeader, templates.NoisePeriod{
		Days: rep.Days, Since: rep.Since.UTC().Format(noiseDay), Until: rep.Until.UTC().Format(noiseTime),
		Sightings: rep.Sightings, Sparkline: noise.Sparkline(rep.PerDay),
	})
	days := make([]string, len(rep.PerDay))
	for i, d := range rep.PerDay {
		days[i] = say(tx, templates.NoiseDay, templates.DaySightings{Day: d.Day.UTC().Format(noiseDay), Sightings: d.Sightings})
	}

	lines := []string{say(tx, templates.NoiseTopHeader, templates.NoData{})}
	if len(rep.Top) == 0 {
		lines = append(lines, say(tx, templates.NoiseTopNone, templates.NoData{}))
	}
	for _, f := range rep.Top {
		line := templates.NoisyFingerprint{Sightings: f.Sightings, Environment: Escape(f.Environment),
			Fingerprint: escapeLine(f.Fingerprint, 200), Title: escapeLine(f.Title, 120), AnomalyID: f.AnomalyID}
		if f.Decision != "" {
			line.Decision, line.DecidedBy = noise.DecisionLabel(f.Decision), actor(f.DecidedBy)
		}
		if f.Ticket != "" {
			line.Ticket = Link(f.Ticket, "ticket")
		}
		lines = append(lines, say(tx, templates.NoiseTopLine, line))
	}

	lines = append(lines, "", say(tx, templates.NoiseAlertsHeader, templates.NoData{}))
	if len(rep.Alerts) == 0 {
		lines = append(lines, say(tx, templates.NoiseAlertsNone, templates.NoData{}))
	}
	for _, a := range rep.Alerts {
		lines = append(lines, say(tx, templates.NoiseAlertsLine, templates.FiredAlert{Runs: a.Runs,
			Environment: Escape(a.Environment), Source: noise.SourceLabel(a.Source), Fingerprint: escapeLine(a.Fingerprint, 200),
			Title: escapeLine(a.Title, 120), Count: a.Count}))
	}

	lines = append(lines, "", say(tx, templates.NoiseUndecidedHeader, templates.Count{Count: len(rep.Undecided)}))
	for i, u := range rep.Undecided {
		if i == maxNoiseLines {
			lines = append(lines, say(tx, templates.ChecklistMore, templates.Count{Count: len(rep.Undecided) - i}))
			break
		}
		lines = append(lines, say(tx, templates.NoiseUndecidedLine, templates.UndecidedAnomaly{AnomalyID: u.AnomalyID,
			Environment: Escape(u.Environment), Title: escapeLine(u.Title, 120),
			OpenedAt: u.OpenedAt.UTC().Format(noiseTime), SeenCount: u.SeenCount}))
	}

	m := rep.Mistriage
	lines = append(lines, "", say(tx, templates.NoiseMistriage, templates.MistriageRate{
		Mistriaged: len(m.Anomalies), Decided: m.Decided, Percent: int(math.Round(100 * m.Rate))}))
	for i, a := range m.Anomalies {
		if i == maxNoiseLines {
			lines = append(lines, say(tx, templates.ChecklistMore, templates.Count{Count: len(m.Anomalies) - i}))
			break
		}
		became := noise.DecisionLabel(noise.BecameSerious)
		if a.Became == noise.BecameIncident {
			became = fmt.Sprintf("incident #%d", a.IncidentID)
		}
		lines = append(lines, say(tx, templates.NoiseMistriageLine, templates.MistriagedAnomaly{AnomalyID: a.AnomalyID,
			From: noise.DecisionLabel(a.From), Became: became, At: a.At.UTC().Format(noiseTime)}))
	}

	silenceLines := func(head templates.Text[templates.Count], list []noise.SilenceLine) {
		lines = append(lines, "", say(tx, head, templates.Count{Count: len(list)}))
		for i, l := range list {
			if i == maxSilenceLines {
				lines = append(lines, say(tx, templates.ChecklistMore, templates.Count{Count: len(list) - i}))
				break
			}
			lines = append(lines, say(tx, templates.NoiseSilenceLine, templates.NoiseSilence{AnomalyID: l.AnomalyID,
				Environment: Escape(l.Environment), Title: escapeLine(l.Title, 120), ID: Escape(l.SilenceID),
				Until: l.EndsAt.UTC().Format(noiseTime), Matchers: escapeLine(l.Matchers, 300), Extensions: l.Extensions}))
		}
	}
	silenceLines(templates.NoiseStaleHeader, rep.StaleSilences)
	if len(rep.SilencesUnchecked) > 0 {
		lines = append(lines, say(tx, templates.NoiseUnchecked, templates.Unchecked{
			Text: escapeLine(strings.Join(rep.SilencesUnchecked, "; "), 1000)}))
	}
	silenceLines(templates.NoiseExtendedHeader, rep.ExtendedSilences)

	blocks := []slack.Block{section(header), contextText(strings.Join(days, " · "))}
	blocks = append(blocks, packSections(tx, lines, maxMessageBlocks-3)...)
	blocks = append(blocks, contextText(say(tx, templates.NoiseNotCovered, templates.NoData{})))
	return header, blocks
}

// NoiseWeekly is the noise report posted on a schedule (the scheduler in
// cmd/opsbot calls the job once per occurrence across the replicas).
type NoiseWeekly struct {
	// Channel is where the report goes (default Options.OpsChannel).
	Channel string
	// Days is the report's period, UTC days ending at the occurrence
	// (default noise.DefaultDays).
	Days int
}

// NoiseWeeklyJob checks w and returns the scheduler's job: at each
// occurrence, the noise report of the Days days ending then, posted in
// Channel, the same report as `/ops noise`.
func (b *Bot) NoiseWeeklyJob(w NoiseWeekly) (schedule.Job, error) {
	if w.Channel == "" {
		w.Channel = b.opts.OpsChannel
	}
	if w.Days == 0 {
		w.Days = noise.DefaultDays
	}
	var errs []error
	if b.opts.Noise == nil {
		errs = append(errs, errors.New("noise.weekly: the noise report is not set up (Options.Noise)"))
	}
	if !validSlackID(w.Channel, "C", "G") {
		errs = append(errs, fmt.Errorf("noise.weekly.channel: want a channel id (C...), got %q", w.Channel))
	}
	if err := noise.CheckDays(w.Days); err != nil {
		errs = append(errs, fmt.Errorf("noise.weekly.days: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return func(ctx context.Context, at time.Time) error {
		ctx, cancel := context.WithTimeout(ctx, b.opts.HandlerTimeout)
		defer cancel()
		// The period ends at the occurrence, not when it ran: a late run
		// (catch-up) reports the same week.
		rep, err := noise.Build(ctx, b.opts.Noise, b.opts.NoiseAlertmanagers, w.Days, at)
		if err != nil {
			return fmt.Errorf("weekly noise report: %w", err)
		}
		msg, blocks := noiseMessage(b.texts(), rep)
		if _, _, err := b.api.PostMessageContext(ctx, w.Channel, slack.MsgOptionText(msg, false), slack.MsgOptionBlocks(blocks...)); err != nil {
			return fmt.Errorf("posting the weekly noise report in %s: %w", w.Channel, err)
		}
		return nil
	}, nil
}
