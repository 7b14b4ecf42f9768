package checklist

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/redact"
	"github.com/opsbot/opsbot/triage"
)

// Defaults of RunOptions.
const (
	// DefaultTimeout is the deadline of a check that sets none of its own.
	DefaultTimeout = 30 * time.Second
	// DefaultSaveTimeout bounds saving a run that was cut short.
	DefaultSaveTimeout = 10 * time.Second
)

// RunSaver saves a run's report, so that its findings can be found again.
type RunSaver interface {
	// SaveRun records a run whose report is (about to be) message
	// messageTS in channel, and returns its id (> 0).
	SaveRun(ctx context.Context, rep checks.Report, channel, messageTS string) (int64, error)
}

// RunStore keeps the findings of checklist runs, so that a report's
// Investigate buttons work after a restart and whichever replica Slack
// hands the click to. store.DB implements it (store/runs.go), keeping runs
// 30 days.
type RunStore interface {
	RunSaver
	// RunFinding returns finding idx of run runID, the findings counted
	// from 0 in report order (rep.Results[0]'s, then Results[1]'s...), and
	// the run's environment. ok is false when the run or the finding is
	// unknown or no longer kept.
	RunFinding(ctx context.Context, runID int64, idx int) (f checks.Finding, env string, ok bool, err error)
}

// RunHistory reads what earlier runs found; store.DB implements it
// (store/runs.go).
type RunHistory interface {
	// LastRunFindings returns the findings of env's latest kept run whose
	// fingerprint starts with prefix; ok is false when env has none.
	LastRunFindings(ctx context.Context, env, prefix string) (findings []checks.Finding, ok bool, err error)
}

// LastRunFindings is Options.LastRunFindings for env, read from h.
func LastRunFindings(h RunHistory, env string) func(ctx context.Context, prefix string) ([]checks.Finding, bool, error) {
	return func(ctx context.Context, prefix string) ([]checks.Finding, bool, error) {
		return h.LastRunFindings(ctx, env, prefix)
	}
}

// Observer records the sightings of a run's findings and says which to
// announce in their anomalies' threads and which a standing decision
// covers; *triage.Service implements it.
type Observer interface {
	ObserveFindings(ctx context.Context, env, runKey string, findings []checks.Finding) (triage.Sightings, error)
}

// Memory is what the rotation remembers of kinds of findings: what was
// decided the last time each of some fingerprints was investigated
// (History, by fingerprint), and the runbook tips in force (Tips).
// *triage.Service implements it.
type Memory interface {
	History(ctx context.Context, env string, fingerprints []string, beforeID int64) (map[string]triage.History, error)
	Tips(ctx context.Context) ([]triage.Tip, error)
}

// Progress is told of a run as it goes, to show it (the bot updates its
// "running…" message in place).
type Progress interface {
	// Checked: check i (its index in RunOptions.Checks) reported r. Calls
	// come one at a time, from Run's goroutine, never after Done.
	Checked(i int, r checks.Result)
	// Done: every check has reported; the run is saved and observed next.
	Done()
}

// RunOptions are one run of an environment's checklist and where its
// outcome goes.
type RunOptions struct {
	// Environment is the environment checked ("prod").
	Environment string
	// Checks are its checks, in the report's order (Build).
	Checks []checks.Check
	// Timeout is the deadline of a check that sets none of its own
	// (default DefaultTimeout).
	Timeout time.Duration
	// Channel and MessageTS say where the report is shown; they are saved
	// with the run (Slack ids; empty in a terminal).
	Channel   string
	MessageTS string
	// AskedBy is who asked for the run (a Slack user id, or "schedule";
	// "" in a terminal), saved with it (checks.Report.AskedBy).
	AskedBy string
	// Progress, if not nil, is told of each check's result as it comes.
	Progress Progress
	// Runs, if not nil, saves the run.
	Runs RunSaver
	// Triage, if not nil, records the sightings of the run's findings
	// (a run cut short records none), and the findings a standing
	// decision covers are suppressed as known noise (Report.Suppressed).
	// Without it (the terminal), nothing is suppressed.
	Triage Observer
	// Memory, if not nil, says what was decided last time about the
	// report's findings (Finding.LastTime), in one call for them all, and
	// which tips match them (Finding.Tips), from one read of the tips.
	// Without it (the terminal), findings have neither.
	Memory Memory
	// SaveTimeout bounds saving a run cut short, whose context is done by
	// then (default DefaultSaveTimeout).
	SaveTimeout time.Duration
	// Redactor takes secrets out of the checks' results before they are
	// reported, saved or observed (checks.Runner.Redactor; config's
	// redaction block). The zero Redactor redacts every kind.
	Redactor redact.Redactor
	// Logger receives a line per check; nil: no logging.
	Logger *zap.Logger
	// Now is the clock of the report (default time.Now).
	Now func() time.Time
	// Meter, if set, is the one the checks were built with
	// (Options.Meter): the report then says what the run cost.
	Meter *Meter
}

// Outcome is what a run found and what became of it.
type Outcome struct {
	// Report is the run's report, every check in it.
	Report checks.Report
	// RunID is the saved run's id, which the report's Investigate buttons
	// name; 0 when it was not saved: SaveErr says why (nil without
	// RunOptions.Runs).
	RunID   int64
	SaveErr error
	// Announce are the sightings to announce in their anomalies' threads
	// (triage.Service.Announce); ObserveErr tells of the findings whose
	// sighting could not be recorded.
	Announce   []triage.Observation
	ObserveErr error
	// MemoryErr says why findings have no LastTime or Tips when
	// RunOptions.Memory could not be read.
	MemoryErr error
	// CutShort is why the checks were stopped before they finished (the
	// context's cause), nil when they ran to their end; TimedOut says it
	// was a deadline rather than a cancellation (shutting down).
	CutShort error
	TimedOut bool
}

// Run is the morning run of one environment's checklist, the same from a
// terminal (`opsbot checklist`) and from Slack: the checks run
// concurrently, each under its own deadline (checks.Runner), telling
// Progress as they finish; their results make the report; the sightings
// of its findings are recorded (Triage), unless the run was cut short,
// and the findings a standing decision covers move out of the results
// into the report's Suppressed list (those that grew past theirs stay,
// with Finding.Known saying so); then the run is saved as reported (before
// its report shows Investigate buttons that point at it). The report is
// always made, even of a run cut short: the checks still running report
// Unknown.
func Run(ctx context.Context, o RunOptions) Outcome {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.SaveTimeout <= 0 {
		o.SaveTimeout = DefaultSaveTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	pos := make(map[string]int, len(o.Checks))
	for i, c := range o.Checks {
		pos[c.Name()] = i
	}
	var progress func(checks.Result)
	if o.Progress != nil {
		progress = func(r checks.Result) { o.Progress.Checked(pos[r.Check], r) }
	}
	started := o.Now()
	var before checks.Cost
	if o.Meter != nil {
		before = o.Meter.Cost()
	}
	runner := checks.NewRunner(o.Timeout, o.Logger)
	runner.Redactor = o.Redactor
	results := runner.Run(ctx, o.Checks, progress)
	if o.Progress != nil {
		o.Progress.Done()
	}
	out := Outcome{Report: checks.NewReport(o.Environment, started, o.Now(), results)}
	out.Report.AskedBy = o.AskedBy
	if o.Meter != nil {
		cost := o.Meter.since(before)
		out.Report.Cost = &cost
	}

	if ctx.Err() != nil {
		out.CutShort = context.Cause(ctx)
		out.TimedOut = errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(out.CutShort, context.DeadlineExceeded)
		// The run is still saved, under a short deadline of its own, so
		// that the report of a run cut short has its buttons too.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), o.SaveTimeout)
		defer cancel()
	}
	// Sightings are recorded before the report shows its Investigate
	// buttons, so that an anomaly opened from this report is not "seen
	// again" by the run that found it; and before the run is saved, so
	// that the saved findings are the report's (the buttons count them).
	if o.Triage != nil && out.CutShort == nil {
		var all []checks.Finding
		for _, res := range out.Report.Results {
			all = append(all, res.Findings...)
		}
		var seen triage.Sightings
		seen, out.ObserveErr = o.Triage.ObserveFindings(ctx, o.Environment, newRunKey(), all)
		out.Announce = seen.Announce
		suppress(&out.Report, seen.Known)
	}
	if o.Memory != nil {
		out.MemoryErr = remember(ctx, o.Memory, &out.Report)
	}
	if o.Runs != nil {
		if out.RunID, out.SaveErr = o.Runs.SaveRun(ctx, out.Report, o.Channel, o.MessageTS); out.SaveErr != nil {
			out.RunID = 0
		}
	}
	return out
}

// suppress applies the standing decisions to rep: the findings a decision
// covers (known, by fingerprint: triage.Sightings.Known) move from their
// results to rep.Suppressed, in report order; those that grew past their
// decision stay, marked (Finding.Known). A check whose status came from
// its findings takes the status of those left; the report's follows.
func suppress(rep *checks.Report, known map[string]triage.Observation) {
	if len(known) == 0 {
		return
	}
	st := checks.OK
	for i := range rep.Results {
		r := &rep.Results[i]
		fromFindings := r.Status == checks.Summarize(r.Findings)
		kept := make([]checks.Finding, 0, len(r.Findings))
		for _, f := range r.Findings {
			obs, ok := known[f.Fingerprint]
			if !ok {
				kept = append(kept, f)
				continue
			}
			k := knownOf(obs, f)
			if obs.Cover.Suppressed {
				rep.Suppressed = append(rep.Suppressed, checks.Suppressed{Check: r.Check, Finding: f, Known: k})
				continue
			}
			f.Known = &k
			kept = append(kept, f)
		}
		if len(kept) < len(r.Findings) && fromFindings {
			r.Status = checks.Summarize(kept)
		}
		r.Findings = kept
		st = checks.Worst(st, r.Status)
	}
	rep.Status = st
}

// remember sets the LastTime and Tips of rep's findings from m: one
// History call for all their fingerprints, one read of the tips.
func remember(ctx context.Context, m Memory, rep *checks.Report) error {
	var fps []string
	seen := map[string]bool{}
	for _, r := range rep.Results {
		for _, f := range r.Findings {
			if f.Fingerprint != "" && !seen[f.Fingerprint] {
				seen[f.Fingerprint] = true
				fps = append(fps, f.Fingerprint)
			}
		}
	}
	if len(fps) == 0 {
		return nil
	}
	// More than a store takes in one query is more than any report
	// shows (Slack's 50 blocks): the first ones have it.
	fps = fps[:min(len(fps), triage.MaxHistoryFingerprints)]
	hs, herr := m.History(ctx, rep.Environment, fps, 0)
	tips, terr := m.Tips(ctx)
	for i := range rep.Results {
		for j := range rep.Results[i].Findings {
			f := &rep.Results[i].Findings[j]
			if x, ok := hs[f.Fingerprint]; ok {
				f.LastTime = LastTimeOf(x)
			}
			for _, t := range triage.MatchTips(tips, f.Fingerprint) {
				f.Tips = append(f.Tips, TipOf(t))
			}
		}
	}
	return errors.Join(herr, terr)
}

// TipOf is tip t as a finding shows it.
func TipOf(t triage.Tip) checks.Tip {
	return checks.Tip{ID: t.ID, Pattern: t.Pattern, Text: t.Text, Author: t.Author}
}

// LastTimeOf is History h as a finding shows it.
func LastTimeOf(h triage.History) *checks.LastTime {
	d := h.Decision
	return &checks.LastTime{AnomalyID: h.AnomalyID, Decision: d.Decision.Label(), DecidedBy: d.DecidedBy,
		DecidedAt: d.DecidedAt, Conclusion: d.Conclusion, Ticket: d.Ticket,
		Channel: h.Channel, ThreadTS: h.ThreadTS, Seen: h.Seen}
}

// knownOf is what the report says of finding f, which obs's decision
// covers (or did until it grew).
func knownOf(obs triage.Observation, f checks.Finding) checks.Known {
	a := obs.Anomaly
	k := checks.Known{AnomalyID: a.ID, Count: triage.Magnitude(f), Grew: obs.Cover.Grew}
	if d := a.Decision; d != nil {
		k.Decision, k.DecidedBy, k.DecidedAt, k.DecidedCount = d.Decision.Label(), d.DecidedBy, d.DecidedAt, d.Magnitude
	}
	return k
}

// newRunKey is a random key of one run, in the idempotency keys of its
// sightings.
func newRunKey() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
