package schedule

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"go.uber.org/zap"
)

// Job is the work run at each occurrence; at is the scheduled time (not
// the time it started).
type Job func(ctx context.Context, at time.Time) error

// Options are the Scheduler's dependencies. Every field is optional.
type Options struct {
	// Name names the schedule in claim keys and logs. Default "checklist".
	Name string
	// Elector says whether this replica is the leader. Default
	// AlwaysLeader (a single replica). The caller runs it (Elector.Run)
	// beside the Scheduler.
	Elector Elector
	// Claimer guards each occurrence across replicas. Default: a
	// MemoryClaimer, which guards this process only; catch-up
	// (Config.CatchUp) is then off, because it could run an occurrence
	// that a previous leader already ran.
	Claimer Claimer
	// Clock is the scheduler's time. Default RealClock.
	Clock Clock
	// Holder names this replica in its claims. Default: a random id.
	Holder string
	// Lease is how long a claim holds without renewal: the replica running
	// an occurrence renews it every Lease/3; if it dies, another replica
	// can take the occurrence Lease later (within the catch-up time).
	// Default DefaultLease.
	Lease time.Duration
	// Logger receives a line per occurrence. Default: none.
	Logger *zap.Logger
}

const (
	// DefaultName is the schedule's name when Options.Name is empty.
	DefaultName = "checklist"
	// leaderPoll is how often a replica that is not the leader looks
	// again during an occurrence's catch-up time.
	leaderPoll = 2 * time.Second
	// lateTolerance is how late a timer may fire and the occurrence still
	// run when catch-up is off (a busy machine, a GC pause).
	lateTolerance = time.Minute
	// DefaultLease is Options.Lease's default.
	DefaultLease = time.Minute
)

// Scheduler runs a job at each occurrence of a schedule, on the leader only,
// once per occurrence. Create it with New and run it with Start.
type Scheduler struct {
	sched   *Schedule
	job     Job
	name    string
	catchUp time.Duration
	elector Elector
	claimer Claimer
	clock   Clock
	holder  string
	lease   time.Duration
	logger  *zap.Logger
}

// New returns a Scheduler running job on cfg's schedule. cfg is defaulted
// and validated.
func New(cfg Config, job Job, opts Options) (*Scheduler, error) {
	if job == nil {
		return nil, errors.New("schedule: nil job")
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sched, err := cfg.Parsed()
	if err != nil {
		return nil, err
	}
	s := &Scheduler{
		sched:   sched,
		job:     job,
		name:    opts.Name,
		catchUp: time.Duration(*cfg.CatchUp),
		elector: opts.Elector,
		claimer: opts.Claimer,
		clock:   opts.Clock,
		holder:  opts.Holder,
		lease:   opts.Lease,
		logger:  opts.Logger,
	}
	if s.holder == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		s.holder = hex.EncodeToString(b)
	}
	if s.lease <= 0 {
		s.lease = DefaultLease
	}
	if s.name == "" {
		s.name = DefaultName
	}
	if s.elector == nil {
		s.elector = AlwaysLeader{}
	}
	if s.clock == nil {
		s.clock = RealClock{}
	}
	if s.logger == nil {
		s.logger = zap.NewNop()
	}
	s.logger = s.logger.With(zap.String("schedule", s.name), zap.Stringer("cron", sched),
		zap.String("timezone", sched.Location().String()))
	if s.claimer == nil {
		s.claimer = NewMemoryClaimer()
		if s.catchUp > 0 {
			s.logger.Info("no shared claimer: catch-up is off", zap.Duration("catchUp", s.catchUp))
		}
		s.catchUp = 0
	}
	return s, nil
}

// Schedule returns the parsed schedule (for "next checklist at ...").
func (s *Scheduler) Schedule() *Schedule { return s.sched }

// Start runs the job at each occurrence until ctx is done, then returns nil
// (controller-runtime's Runnable). An occurrence runs when this replica is
// the leader at its time (or becomes it within the catch-up time) and wins
// the occurrence's claim. An occurrence whose time passed while the job was
// still running is run late, once, if within the catch-up time; older ones
// are skipped and logged. A job's error or panic is logged; the schedule
// goes on. The job gets ctx: it is cancelled when the scheduler stops.
func (s *Scheduler) Start(ctx context.Context) error {
	cursor := s.clock.Now().Add(-s.catchUp)
	s.logger.Info("scheduler started", zap.Time("next", s.sched.Next(cursor)))
	for {
		at := s.sched.Next(cursor)
		if at.IsZero() {
			s.logger.Warn("the schedule never fires again")
			<-ctx.Done()
			return nil
		}
		// Occurrences already due (the job ran long, the process was
		// stalled, or it started late): keep only the latest.
		now := s.clock.Now()
		skipped := 0
		for {
			n := s.sched.Next(at)
			if n.IsZero() || n.After(now) {
				break
			}
			at, skipped = n, skipped+1
		}
		if skipped > 0 {
			s.logger.Warn("skipped occurrences that were already due", zap.Int("skipped", skipped), zap.Time("running", at))
		}
		if !s.sleepUntil(ctx, at) {
			return nil
		}
		cursor = at
		if late := s.clock.Now().Sub(at); late > max(s.catchUp, lateTolerance) {
			s.logger.Warn("missed an occurrence", zap.Time("at", at), zap.Duration("late", late))
			continue
		}
		s.fire(ctx, at)
		if ctx.Err() != nil {
			return nil
		}
	}
}

// sleepUntil waits until the clock reaches t; false if ctx ended first.
func (s *Scheduler) sleepUntil(ctx context.Context, t time.Time) bool {
	for {
		d := t.Sub(s.clock.Now())
		if d <= 0 {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-s.clock.After(d):
			// Timers and the wall clock may disagree: look again.
		}
	}
}

// fire runs the occurrence at if this replica is (or becomes, within the
// catch-up time) the leader and takes it. Another replica holding it is
// watched until the catch-up time ends: if that replica dies, its lease
// runs out and this one takes the occurrence and runs it.
func (s *Scheduler) fire(ctx context.Context, at time.Time) {
	key := ClaimKey(s.name, at)
	log := s.logger.With(zap.Time("at", at), zap.String("key", key))
	deadline := at.Add(s.catchUp)
	if next := s.sched.Next(at); !next.IsZero() && next.Before(deadline) {
		deadline = next
	}
	var lastErr error
	held := false
	for {
		if s.elector.IsLeader() {
			now := s.clock.Now()
			c, err := s.claimer.Take(ctx, key, s.holder, now, now.Add(s.lease))
			switch {
			case err != nil:
				lastErr = err
				log.Warn("could not claim the occurrence", zap.Error(err))
			case c == Done:
				if !held {
					log.Info("occurrence already run by another replica")
				} else {
					log.Info("the replica that held the occurrence ran it")
				}
				return
			case c == Held:
				if !held {
					log.Info("occurrence held by another replica; watching it until the catch-up time ends")
				}
				held = true
			default:
				if held {
					log.Warn("the replica that held the occurrence stopped renewing it; running it here")
				}
				s.run(ctx, key, at, log)
				return
			}
		}
		now := s.clock.Now()
		if !now.Before(deadline) {
			switch {
			case lastErr != nil:
				log.Error("occurrence not run: could not claim it", zap.Error(lastErr))
			case held:
				log.Info("occurrence held by another replica until the catch-up time ended")
			default:
				log.Info("occurrence not run here: this replica is not the leader")
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(min(leaderPoll, deadline.Sub(now))):
		}
	}
}

// run runs the job, renewing the occurrence's lease while it runs, turning
// a panic into a logged error. A job that returns (even with an error)
// finishes the occurrence; one cut short by ctx (the process stopping)
// leaves it to the lease, so that another replica runs it.
func (s *Scheduler) run(ctx context.Context, key string, at time.Time, log *zap.Logger) {
	renewCtx, stopRenewing := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		s.renew(renewCtx, key, log)
	}()
	defer func() {
		stopRenewing()
		<-renewed
		if ctx.Err() != nil {
			log.Warn("stopped in the middle of the occurrence; another replica can take it when its lease runs out")
			return
		}
		if err := s.claimer.Finish(context.WithoutCancel(ctx), key, s.holder); err != nil {
			log.Error("could not record the occurrence as done", zap.Error(err))
		}
	}()
	start := s.clock.Now()
	log.Info("running the scheduled job", zap.Duration("late", start.Sub(at)))
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("job panicked: %v", p)
				log.Error("scheduled job panicked", zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
			}
		}()
		return s.job(ctx, at)
	}()
	if err != nil {
		log.Error("scheduled job failed", zap.Error(err), zap.Duration("took", s.clock.Now().Sub(start)))
		return
	}
	log.Info("scheduled job done", zap.Duration("took", s.clock.Now().Sub(start)))
}

// renew renews the lease on key every lease/3 until ctx is done.
func (s *Scheduler) renew(ctx context.Context, key string, log *zap.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(s.lease / 3):
		}
		now := s.clock.Now()
		c, err := s.claimer.Take(ctx, key, s.holder, now, now.Add(s.lease))
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			log.Warn("could not renew the occurrence's lease", zap.Error(err))
		case c != Taken:
			log.Error("lost the occurrence's lease: another replica may run it too")
		}
	}
}
