package report

import (
	"fmt"
	"io"

	"github.com/opsbot/opsbot/noise"
)

// noiseDay is how the noise report writes a day and a time: UTC, as its
// days are.
const (
	noiseDay  = "2006-01-02"
	noiseTime = "2006-01-02 15:04 UTC"
)

// WriteNoiseText writes the noise report for a person at a terminal: the
// sightings per day (a sparkline and the figures), the most-seen
// fingerprints with their decisions, the alerts that fired most, the
// undecided anomalies, the mis-triage rate, and the decisions' silences
// that match no alert any more or were extended again and again. Untrusted text is cleaned (Clean).
func WriteNoiseText(w io.Writer, r noise.Report) error {
	ew := &errWriter{w: w}
	days := "days"
	if r.Days == 1 {
		days = "day"
	}
	ew.printf("Noise report: %d %s, %s to %s (UTC days)\n\n", r.Days, days, r.Since.Format(noiseDay), r.Until.UTC().Format(noiseTime))
	ew.printf("Sightings: %d  %s\n", r.Sightings, noise.Sparkline(r.PerDay))
	for _, d := range r.PerDay {
		ew.printf("  %s  %d\n", d.Day.Format(noiseDay), d.Sightings)
	}

	ew.printf("\nMost seen fingerprints:\n")
	if len(r.Top) == 0 {
		ew.printf("  none\n")
	}
	for _, f := range r.Top {
		ew.printf("  %4d  %s %s\n        #%d %s — %s", f.Sightings, Clean(f.Environment), Clean(f.Fingerprint),
			f.AnomalyID, Clean(f.Title), noise.DecisionLabel(f.Decision))
		if f.DecidedBy != "" {
			ew.printf(" by %s", Clean(f.DecidedBy))
		}
		if f.Ticket != "" {
			ew.printf(", ticket %s", Clean(f.Ticket))
		}
		ew.printf("\n")
	}

	ew.printf("\nAlerts that fired most (in how many checklist runs):\n")
	if len(r.Alerts) == 0 {
		ew.printf("  none\n")
	}
	for _, a := range r.Alerts {
		ew.printf("  %4d  %s %s %s\n        %s", a.Runs, Clean(a.Environment), noise.SourceLabel(a.Source), Clean(a.Fingerprint), Clean(a.Title))
		if a.Count > 0 {
			ew.printf(" (%d at the latest run)", a.Count)
		}
		ew.printf("\n")
	}

	ew.printf("\nUndecided anomalies: %d\n", len(r.Undecided))
	for _, u := range r.Undecided {
		ew.printf("  #%d %s %s — opened %s, seen %d×\n", u.AnomalyID, Clean(u.Environment), Clean(u.Title),
			u.OpenedAt.UTC().Format(noiseTime), u.SeenCount)
	}

	m := r.Mistriage
	if m.Decided == 0 {
		ew.printf("\nMis-triage: no Noise or Intermittent decision in the period\n")
	} else {
		ew.printf("\nMis-triage: %d of %d Noise or Intermittent decisions (%.0f%%) later became Serious or an incident\n",
			len(m.Anomalies), m.Decided, 100*m.Rate)
	}
	for _, a := range m.Anomalies {
		became := "Serious"
		if a.Became == noise.BecameIncident {
			became = fmt.Sprintf("incident #%d", a.IncidentID)
		}
		ew.printf("  #%d %s → %s on %s\n", a.AnomalyID, noise.DecisionLabel(a.From), became, a.At.UTC().Format(noiseTime))
	}
	silences := func(head string, list []noise.SilenceLine) {
		ew.printf("\n%s: %d\n", head, len(list))
		for _, l := range list {
			ew.printf("  #%d %s %s — silence %s until %s", l.AnomalyID, Clean(l.Environment), Clean(l.Title),
				Clean(l.SilenceID), l.EndsAt.UTC().Format(noiseTime))
			if l.Matchers != "" {
				ew.printf(" (%s)", Clean(l.Matchers))
			}
			if l.Extensions > 0 {
				ew.printf(", extended %d×", l.Extensions)
			}
			ew.printf("\n")
		}
	}
	silences("Silences that match no alert any more", r.StaleSilences)
	for _, u := range r.SilencesUnchecked {
		ew.printf("  not checked against Alertmanager: %s\n", Clean(u))
	}
	silences("Silences extended again and again", r.ExtendedSilences)
	return ew.err
}

// WriteNoiseJSON writes the noise report as JSON (noise.Report's fields),
// indented, with a trailing newline.
func WriteNoiseJSON(w io.Writer, r noise.Report) error { return writeIndented(w, r) }
