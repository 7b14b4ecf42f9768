package schedule

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/schedule/clocktest"
)

// switchElector is an Elector a test turns on and off.
type switchElector struct{ on atomic.Bool }

func (e *switchElector) IsLeader() bool { return e.on.Load() }
func (e *switchElector) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// recorder is a job that records the occurrences it ran.
type recorder struct {
	mu   sync.Mutex
	runs []time.Time
	ran  chan time.Time
	// block, if set, is waited on before returning.
	block chan struct{}
	err   error
	panic bool
}

func newRecorder() *recorder { return &recorder{ran: make(chan time.Time, 100)} }

func (r *recorder) job(ctx context.Context, at time.Time) error {
	r.mu.Lock()
	r.runs = append(r.runs, at)
	r.mu.Unlock()
	r.ran <- at
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
		}
	}
	if r.panic {
		panic("boom")
	}
	return r.err
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.runs)
}

// testCtx is a context bounded so that a broken test fails rather than
// hangs.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func catchUp(d time.Duration) *model.Duration {
	m := model.Duration(d)
	return &m
}

// start runs a scheduler until the test ends and returns it and a channel
// closed when Start has returned.
func start(t *testing.T, cfg Config, job Job, opts Options) (*Scheduler, <-chan error) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	s, err := New(cfg, job, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Start returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Start did not return after cancel")
		}
	})
	return s, done
}

func waitRun(t *testing.T, r *recorder, want time.Time) {
	t.Helper()
	select {
	case got := <-r.ran:
		if !got.Equal(want) {
			t.Fatalf("job ran for %s, want %s", got, want)
		}
	case <-testCtx(t).Done():
		t.Fatalf("job did not run for %s", want)
	}
}

func waitWaiter(t *testing.T, c *clocktest.Clock, at time.Time, n int) {
	t.Helper()
	if err := c.WaitForWaiter(testCtx(t), at, n); err != nil {
		t.Fatalf("no waiter for %s (pending: %v): %v", at, c.Waiting(), err)
	}
}

func noRun(t *testing.T, r *recorder) {
	t.Helper()
	select {
	case at := <-r.ran:
		t.Fatalf("job ran for %s, want no run", at)
	default:
	}
}

func TestSchedulerRunsAtTheRightInstants(t *testing.T) {
	clock := clocktest.New(ldn(2026, 11, 23, 8, 0)) // Monday 08:00
	rec := newRecorder()
	claims := NewMemoryClaimer()
	s, _ := start(t, Config{}, rec.job, Options{Clock: clock, Claimer: claims})
	if s.Schedule().String() != DefaultSchedule || s.Schedule().Location().String() != "Europe/London" {
		t.Errorf("schedule %s in %s", s.Schedule(), s.Schedule().Location())
	}

	waitWaiter(t, clock, ldn(2026, 11, 23, 9, 30), 1)
	clock.Set(ldn(2026, 11, 23, 9, 29).Add(59 * time.Second))
	// The timer has not fired: still one waiter at 09:30, no run.
	waitWaiter(t, clock, ldn(2026, 11, 23, 9, 30), 1)
	noRun(t, rec)

	clock.Advance(time.Second)
	waitRun(t, rec, ldn(2026, 11, 23, 9, 30))
	if !claims.Taken("checklist/2026-11-23T09:30Z") {
		t.Error("the occurrence was not claimed as checklist/2026-11-23T09:30Z")
	}

	// Tuesday to Friday, then Monday again.
	for _, day := range []int{24, 25, 26, 27, 30} {
		at := ldn(2026, 11, day, 9, 30)
		waitWaiter(t, clock, at, 1)
		clock.Set(at)
		waitRun(t, rec, at)
	}
	waitWaiter(t, clock, ldn(2026, 12, 1, 9, 30), 1)
	if n := rec.count(); n != 6 {
		t.Errorf("%d runs, want 6", n)
	}
}

func TestSchedulerNotLeader(t *testing.T) {
	clock := clocktest.New(ldn(2026, 11, 24, 9, 0))
	rec := newRecorder()
	el := &switchElector{}
	start(t, Config{CatchUp: catchUp(0)}, rec.job, Options{Clock: clock, Elector: el, Claimer: NewMemoryClaimer()})

	waitWaiter(t, clock, ldn(2026, 11, 24, 9, 30), 1)
	clock.Set(ldn(2026, 11, 24, 9, 30))
	// Not the leader, no catch-up: skipped, waiting for Wednesday.
	waitWaiter(t, clock, ldn(2026, 11, 25, 9, 30), 1)
	noRun(t, rec)

	el.on.Store(true)
	clock.Set(ldn(2026, 11, 25, 9, 30))
	waitRun(t, rec, ldn(2026, 11, 25, 9, 30))
}

func TestSchedulerBecomesLeaderWithinCatchUp(t *testing.T) {
	clock := clocktest.New(ldn(2026, 11, 24, 9, 0))
	rec := newRecorder()
	el := &switchElector{}
	start(t, Config{}, rec.job, Options{Clock: clock, Elector: el, Claimer: NewMemoryClaimer()})

	at := ldn(2026, 11, 24, 9, 30)
	waitWaiter(t, clock, at, 1)
	clock.Set(at)
	// Not the leader yet: it looks again every leaderPoll.
	waitWaiter(t, clock, at.Add(leaderPoll), 1)
	clock.Advance(leaderPoll)
	waitWaiter(t, clock, at.Add(2*leaderPoll), 1)
	noRun(t, rec)

	el.on.Store(true) // the old leader's lease expired
	clock.Advance(leaderPoll)
	waitRun(t, rec, at)
}

func TestSchedulerGivesUpAfterCatchUp(t *testing.T) {
	clock := clocktest.New(ldn(2026, 11, 24, 9, 0))
	rec := newRecorder()
	el := &switchElector{}
	start(t, Config{CatchUp: catchUp(3 * time.Second)}, rec.job, Options{Clock: clock, Elector: el, Claimer: NewMemoryClaimer()})

	at := ldn(2026, 11, 24, 9, 30)
	waitWaiter(t, clock, at, 1)
	clock.Set(at)
	waitWaiter(t, clock, at.Add(leaderPoll), 1)
	clock.Advance(leaderPoll)
	// The last look is at the end of the catch-up time.
	waitWaiter(t, clock, at.Add(3*time.Second), 1)
	clock.Advance(time.Second)
	waitWaiter(t, clock, ldn(2026, 11, 25, 9, 30), 1)
	el.on.Store(true)
	noRun(t, rec)
}

func TestTwoSchedulersShareAClaimer(t *testing.T) {
	// During a leader change both replicas may believe they lead for a
	// moment; the shared claim lets one of them run the occurrence.
	clock := clocktest.New(ldn(2026, 11, 24, 9, 0))
	rec := newRecorder()
	rec.block = make(chan struct{}) // the job runs until the test says
	claims := NewMemoryClaimer()
	start(t, Config{}, rec.job, Options{Clock: clock, Claimer: claims})
	start(t, Config{}, rec.job, Options{Clock: clock, Claimer: claims})

	at := ldn(2026, 11, 24, 9, 30)
	waitWaiter(t, clock, at, 2)
	clock.Set(at)
	waitRun(t, rec, at)
	// The other found it held, and watches it.
	waitWaiter(t, clock, at.Add(leaderPoll), 1)
	close(rec.block)
	// The one that ran it waits for Wednesday; the other sees it done at
	// its next look, and waits for Wednesday too.
	waitWaiter(t, clock, ldn(2026, 11, 25, 9, 30), 1)
	clock.Advance(leaderPoll)
	waitWaiter(t, clock, ldn(2026, 11, 25, 9, 30), 2)
	if n := rec.count(); n != 1 {
		t.Errorf("the occurrence ran %d times, want once", n)
	}
}

func TestCatchUpAtStart(t *testing.T) {
	at := ldn(2026, 11, 24, 9, 30)
	t.Run("runs an occurrence missed while restarting", func(t *testing.T) {
		clock := clocktest.New(at.Add(2 * time.Minute))
		rec := newRecorder()
		start(t, Config{}, rec.job, Options{Clock: clock, Claimer: NewMemoryClaimer()})
		waitRun(t, rec, at)
	})
	t.Run("not when another replica ran it", func(t *testing.T) {
		clock := clocktest.New(at.Add(2 * time.Minute))
		rec := newRecorder()
		claims := NewMemoryClaimer()
		key := ClaimKey(DefaultName, at)
		if c, _ := claims.Take(context.Background(), key, "other", at, at.Add(time.Minute)); c != Taken {
			t.Fatal("could not take")
		}
		if err := claims.Finish(context.Background(), key, "other"); err != nil {
			t.Fatal(err)
		}
		start(t, Config{}, rec.job, Options{Clock: clock, Claimer: claims})
		waitWaiter(t, clock, ldn(2026, 11, 25, 9, 30), 1)
		noRun(t, rec)
	})
	t.Run("not without a shared claimer", func(t *testing.T) {
		clock := clocktest.New(at.Add(2 * time.Minute))
		rec := newRecorder()
		start(t, Config{}, rec.job, Options{Clock: clock})
		waitWaiter(t, clock, ldn(2026, 11, 25, 9, 30), 1)
		noRun(t, rec)
	})
	t.Run("not after the catch-up time", func(t *testing.T) {
		clock := clocktest.New(at.Add(6 * time.Minute))
		rec := newRecorder()
		start(t, Config{}, rec.job, Options{Clock: clock, Claimer: NewMemoryClaimer()})
		waitWaiter(t, clock, ldn(2026, 11, 25, 9, 30), 1)
		noRun(t, rec)
	})
}

func TestOverrunningJobRunsTheLatestDueOccurrence(t *testing.T) {
	clock := clocktest.New(ldn(2026, 11, 24, 9, 30).Add(30 * time.Second))
	rec := newRecorder()
	rec.block = make(chan struct{})
	start(t, Config{Schedule: "* * * * *", CatchUp: catchUp(0)}, rec.job, Options{Clock: clock})

	first := ldn(2026, 11, 24, 9, 31)
	waitWaiter(t, clock, first, 1)
	clock.Set(first)
	waitRun(t, rec, first)
	// The job takes four and a half minutes: 09:32 to 09:35 pass.
	clock.Set(ldn(2026, 11, 24, 9, 35).Add(30 * time.Second))
	rec.block <- struct{}{}
	// 09:35 is 30 s late, within tolerance; 09:32-09:34 are skipped.
	waitRun(t, rec, ldn(2026, 11, 24, 9, 35))
	rec.block <- struct{}{}
	waitWaiter(t, clock, ldn(2026, 11, 24, 9, 36), 1)
	if n := rec.count(); n != 2 {
		t.Errorf("%d runs, want 2", n)
	}
}

func TestJobErrorsAndPanicsDoNotStopTheSchedule(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(*recorder)
	}{
		{"error", func(r *recorder) { r.err = errors.New("slack is down") }},
		{"panic", func(r *recorder) { r.panic = true }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := clocktest.New(ldn(2026, 11, 24, 9, 0))
			rec := newRecorder()
			tt.set(rec)
			start(t, Config{}, rec.job, Options{Clock: clock})
			at := ldn(2026, 11, 24, 9, 30)
			waitWaiter(t, clock, at, 1)
			clock.Set(at)
			waitRun(t, rec, at)
			next := ldn(2026, 11, 25, 9, 30)
			waitWaiter(t, clock, next, 1)
			clock.Set(next)
			waitRun(t, rec, next)
		})
	}
}

func TestStartStopsWithTheContext(t *testing.T) {
	clock := clocktest.New(ldn(2026, 11, 24, 9, 0))
	rec := newRecorder()
	rec.block = make(chan struct{}) // never released: the job ends with ctx
	s, err := New(Config{}, rec.job, Options{Clock: clock, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	at := ldn(2026, 11, 24, 9, 30)
	waitWaiter(t, clock, at, 1)
	clock.Set(at)
	waitRun(t, rec, at)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Start = %v, want nil", err)
		}
	case <-testCtx(t).Done():
		t.Fatal("Start did not return")
	}
}

// failingClaimer fails its first n claims.
type failingClaimer struct {
	n atomic.Int32
	*MemoryClaimer
}

func (f *failingClaimer) Take(ctx context.Context, key, holder string, now, until time.Time) (Claim, error) {
	if f.n.Add(-1) >= 0 {
		return 0, errors.New("database is locked")
	}
	return f.MemoryClaimer.Take(ctx, key, holder, now, until)
}

func TestClaimErrorsAreRetriedWithinCatchUp(t *testing.T) {
	clock := clocktest.New(ldn(2026, 11, 24, 9, 0))
	rec := newRecorder()
	fc := &failingClaimer{MemoryClaimer: NewMemoryClaimer()}
	fc.n.Store(1)
	start(t, Config{}, rec.job, Options{Clock: clock, Claimer: fc})
	at := ldn(2026, 11, 24, 9, 30)
	waitWaiter(t, clock, at, 1)
	clock.Set(at)
	waitWaiter(t, clock, at.Add(leaderPoll), 1)
	noRun(t, rec)
	clock.Advance(leaderPoll)
	waitRun(t, rec, at)
}

func TestNewErrors(t *testing.T) {
	if _, err := New(Config{}, nil, Options{}); err == nil {
		t.Error("New with a nil job: no error")
	}
	_, err := New(Config{Schedule: "30 25 * * *"}, func(context.Context, time.Time) error { return nil }, Options{})
	if err == nil || err.Error() != "schedule: hour: 25 is out of range 0-23" {
		t.Errorf("New with a bad schedule: %v", err)
	}
}

func TestClaimKey(t *testing.T) {
	if got := ClaimKey("checklist", ldn(2026, 11, 24, 9, 30)); got != "checklist/2026-11-24T09:30Z" {
		t.Errorf("ClaimKey = %s", got)
	}
	// Summer time: the key is in UTC.
	if got := ClaimKey("checklist", ldn(2026, 7, 1, 9, 30)); got != "checklist/2026-07-01T08:30Z" {
		t.Errorf("ClaimKey = %s", got)
	}
}

// TestAnOccurrenceWhoseHolderDiedIsRunByAnother: replica A takes the 09:30
// occurrence and dies in the middle of the job (no renewal, no Finish);
// replica B, which found it held, takes it when A's lease runs out, within
// the catch-up time, and runs it, once.
func TestAnOccurrenceWhoseHolderDiedIsRunByAnother(t *testing.T) {
	at := ldn(2026, 11, 24, 9, 30)
	clock := clocktest.New(at.Add(-time.Minute))
	claims := NewMemoryClaimer()
	recA := newRecorder()
	recA.block = make(chan struct{}) // A's job runs until A dies
	sA, err := New(Config{}, recA.job, Options{Clock: clock, Claimer: claims, Holder: "a", Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	ctxA, killA := context.WithCancel(testCtx(t))
	doneA := make(chan error, 1)
	go func() { doneA <- sA.Start(ctxA) }()
	waitWaiter(t, clock, at, 1)
	clock.Set(at)
	waitRun(t, recA, at)

	// B comes up (a second replica, or A's successor): the occurrence is
	// due, held by A; B watches it.
	recB := newRecorder()
	start(t, Config{}, recB.job, Options{Clock: clock, Claimer: claims, Holder: "b"})
	waitWaiter(t, clock, at.Add(leaderPoll), 1)
	noRun(t, recB)

	killA()
	if err := <-doneA; err != nil {
		t.Fatalf("A's Start = %v", err)
	}
	key := ClaimKey(DefaultName, at)
	if claims.Finished(key) {
		t.Fatal("A, killed mid-run, finished the occurrence")
	}
	// A's lease runs out: B takes the occurrence and runs it.
	clock.Advance(DefaultLease + leaderPoll)
	waitRun(t, recB, at)
	// Once: it is done, and the next one is tomorrow's.
	waitWaiter(t, clock, ldn(2026, 11, 25, 9, 30), 1)
	if !claims.Finished(key) {
		t.Error("B ran the occurrence but did not finish it")
	}
	noRun(t, recB)
}

// TestALongJobKeepsItsLease: a job longer than the lease renews it, so no
// other replica takes the occurrence while it runs.
func TestALongJobKeepsItsLease(t *testing.T) {
	at := ldn(2026, 11, 24, 9, 30)
	clock := clocktest.New(at.Add(-time.Minute))
	claims := NewMemoryClaimer()
	recA := newRecorder()
	recA.block = make(chan struct{})
	start(t, Config{}, recA.job, Options{Clock: clock, Claimer: claims, Holder: "a"})
	waitWaiter(t, clock, at, 1)
	clock.Set(at)
	waitRun(t, recA, at)
	// Three renewals, each a third of the lease: the lease now ends at
	// least two minutes after the occurrence.
	for i := 1; i <= 3; i++ {
		next := at.Add(time.Duration(i) * DefaultLease / 3)
		waitWaiter(t, clock, next, 1)
		clock.Set(next)
	}
	key := ClaimKey(DefaultName, at)
	waitWaiter(t, clock, at.Add(4*DefaultLease/3), 1) // the fourth renewal is waiting: the third was done
	if c, err := claims.Take(testCtx(t), key, "b", at.Add(DefaultLease+time.Second), at.Add(2*DefaultLease)); err != nil || c != Held {
		t.Errorf("another replica a lease after the start: %v, %v; want Held", c, err)
	}
	close(recA.block)
	waitWaiter(t, clock, ldn(2026, 11, 25, 9, 30), 1)
	if !claims.Finished(key) {
		t.Error("the job returned but the occurrence is not done")
	}
}
