package checks

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
)

// stuckCheck ignores its context: it returns when release is closed.
type stuckCheck struct{ release chan struct{} }

func (stuckCheck) Name() string           { return "stuck" }
func (stuckCheck) Timeout() time.Duration { return 10 * time.Millisecond }
func (c stuckCheck) Run(context.Context) Result {
	<-c.release
	return Result{Status: OK, Summary: "late"}
}

// Checks that honour their context and time out leave nothing behind once
// Run has returned.
func TestRunnerLeavesNoGoroutineAfterTimeouts(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	list := []Check{
		fakeCheck{name: "slow", timeout: 10 * time.Millisecond, run: func(ctx context.Context) Result {
			<-ctx.Done()
			return Result{Status: OK, Summary: "partial"}
		}},
		fakeCheck{name: "quick", run: func(context.Context) Result { return Result{Status: OK} }},
	}
	res := NewRunner(time.Minute, zap.NewNop()).Run(context.Background(), list, nil)
	if res[0].Status != Unknown || res[1].Status != OK {
		t.Fatalf("results = %+v", res)
	}
}

// A check that ignores its context cannot be stopped: Run abandons it
// after Grace and reports Unknown. What remains then is that check's own
// goroutine and nothing else of the runner's, and it ends as soon as the
// check returns (its late result is dropped, not waited for).
func TestRunnerLeavesOnlyTheAbandonedCheck(t *testing.T) {
	before := goleak.IgnoreCurrent()
	release := make(chan struct{})
	r := NewRunner(time.Minute, zap.NewNop())
	r.Grace = 10 * time.Millisecond
	res := r.Run(context.Background(), []Check{stuckCheck{release}}, nil)
	if res[0].Status != Unknown || res[0].Summary == "late" {
		t.Fatalf("result = %+v, want Unknown", res[0])
	}
	if err := goleak.Find(before, goleak.IgnoreAnyFunction("github.com/opsbot/opsbot/checks.stuckCheck.Run")); err != nil {
		t.Errorf("goroutines left besides the abandoned check: %v", err)
	}
	if err := goleak.Find(before); err == nil {
		t.Fatal("the abandoned check's goroutine ended before the check returned")
	}
	close(release)
	goleak.VerifyNone(t, before)
}
