package checks

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	"github.com/opsbot/opsbot/redact"
	"go.uber.org/zap"
)

// ErrCheckTimeout is the cause of a check's context when its own deadline
// passes.
var ErrCheckTimeout = errors.New("check deadline exceeded")

// Timed is implemented by checks that want a deadline other than the
// Runner's default.
type Timed interface {
	Timeout() time.Duration
}

// Runner runs checks concurrently, each under its own deadline.
type Runner struct {
	// Timeout is the deadline of a check that does not implement Timed.
	Timeout time.Duration
	// Grace is how long a check whose deadline has passed may still take to
	// return what it has. A check that honours its context returns at once
	// with its partial findings; one that does not is abandoned after Grace.
	Grace time.Duration
	// Logger receives one line per check; nil means no logging.
	Logger *zap.Logger
	// Redactor takes secrets out of what the checks report (summaries,
	// findings' objects, titles, details and fingerprints) before anyone stores or
	// shows it: the one place every check's untrusted text goes through.
	// The zero Redactor redacts every kind, emails included.
	Redactor redact.Redactor
}

// DefaultGrace is the Grace of a Runner made by NewRunner.
const DefaultGrace = 2 * time.Second

// NewRunner returns a Runner with the given default per-check timeout.
func NewRunner(timeout time.Duration, logger *zap.Logger) *Runner {
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Runner{Timeout: timeout, Grace: DefaultGrace, Logger: logger}
}

// Run runs every check concurrently and returns their results in the order
// of checks. Every check reports: one that errors reports what it says, one
// that panics or outlives its deadline reports Unknown with the reason.
//
// progress, if not nil, is called once per check as soon as its result is
// known (from Run's goroutine, never concurrently), so a caller can show
// results as they arrive. Run returns when every check has reported; when ctx
// is cancelled, checks still running report Unknown at once.
func (r *Runner) Run(ctx context.Context, checks []Check, progress func(Result)) []Result {
	logger := r.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	type indexed struct {
		i int
		r Result
	}
	done := make(chan indexed)
	for i, c := range checks {
		timeout := r.Timeout
		if t, ok := c.(Timed); ok && t.Timeout() > 0 {
			timeout = t.Timeout()
		}
		go func() {
			start := time.Now()
			res := runWithDeadline(ctx, c, timeout, r.Grace, logger)
			res.Check = c.Name()
			res.Duration = time.Since(start)
			r.redact(&res)
			if res.Status == Unknown && res.Summary == "" {
				res.Summary = "check reported no reason"
			}
			done <- indexed{i, res}
		}()
	}

	results := make([]Result, len(checks))
	for range checks {
		d := <-done
		results[d.i] = d.r
		logger.Info("check finished",
			zap.String("check", d.r.Check),
			zap.Stringer("status", d.r.Status),
			zap.Int("findings", len(d.r.Findings)),
			zap.Duration("duration", d.r.Duration))
		if progress != nil {
			progress(d.r)
		}
	}
	return results
}

// runWithDeadline runs c under its own deadline. It returns when c returns,
// or grace after the deadline, whichever is first: a check that ignores its
// context is abandoned (its goroutine finishes in the background and its late
// result is dropped) and reports Unknown with the reason.
func runWithDeadline(parent context.Context, c Check, timeout, grace time.Duration, logger *zap.Logger) Result {
	ctx, cancel := context.WithTimeoutCause(parent, timeout, fmt.Errorf("%w after %s", ErrCheckTimeout, timeout))
	defer cancel()
	out := make(chan Result, 1) // buffered: a late check must not block forever
	go func() { out <- runOne(ctx, c, logger) }()
	select {
	case res := <-out:
		return res
	case <-ctx.Done():
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case res := <-out:
		return res
	case <-t.C:
		logger.Warn("check ignored its deadline; abandoned", zap.String("check", c.Name()))
		return UnknownResult(stopReason(context.Cause(ctx)))
	}
}

// runOne runs a check, turning a panic into an Unknown result.
func runOne(ctx context.Context, c Check, logger *zap.Logger) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			logger.Error("check panicked", zap.String("check", c.Name()),
				zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
			res = UnknownResult(fmt.Sprintf("check panicked: %v", p))
		}
	}()
	res = c.Run(ctx)
	if res.Status == Unknown || ctx.Err() == nil {
		return res
	}
	// The check returned after its deadline with whatever it had: it may
	// be incomplete, so it cannot claim OK, and the summary says why.
	if res.Status == OK {
		res.Status = Unknown
	}
	res.Summary = stopReason(context.Cause(ctx)) + "; " + res.Summary
	return res
}

// stopReason says why a check's context ended: its own deadline, or the
// whole checklist being cancelled.
func stopReason(cause error) string {
	if errors.Is(cause, ErrCheckTimeout) {
		return "timed out: " + cause.Error()
	}
	return "checklist cancelled: " + cause.Error()
}

// redact takes secrets out of res's texts.
func (r *Runner) redact(res *Result) {
	res.Summary = r.Redactor.Text(res.Summary)
	// A copy: the check may keep (and report again) its own findings.
	res.Findings = slices.Clone(res.Findings)
	for i := range res.Findings {
		f := &res.Findings[i]
		f.Object, f.Title, f.Detail = r.Redactor.Text(f.Object), r.Redactor.Text(f.Title), r.Redactor.Text(f.Detail)
		f.Fingerprint = r.Redactor.Text(f.Fingerprint)
		if f.Labels != nil {
			labels := make(map[string]string, len(f.Labels))
			for k, v := range f.Labels {
				labels[k] = r.Redactor.Text(v)
			}
			f.Labels = labels
		}
		if f.Chart != nil {
			// The title is shown (the file's title, the image's); the
			// query and the series' labels are what select the data,
			// and come from the configuration and Prometheus.
			c := *f.Chart
			c.Title = r.Redactor.Text(c.Title)
			f.Chart = &c
		}
	}
}
