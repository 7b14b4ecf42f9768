package schedule

import (
	"context"
	"sync"
	"time"
)

// Claim is what taking an occurrence found.
type Claim int

// The outcomes of Claimer.Take.
const (
	// Taken: the caller holds the occurrence now (it must run it, or it is
	// renewing its lease).
	Taken Claim = iota + 1
	// Held: another replica holds it and its lease has not run out: it
	// may be running it now. Ask again later: if that replica dies, its
	// lease runs out and the occurrence can be taken.
	Held
	// Done: it ran to its end; it is never taken again.
	Done
)

// Claimer guards each occurrence of a schedule so that it runs once across
// the replicas, even when leadership changes at the scheduled time or the
// replica running it dies. An occurrence is taken for a holder with a
// lease, which the holder renews while it runs the job and ends by marking
// it done; an occurrence whose holder died (its lease ran out, not done)
// can be taken by the next leader within the catch-up time. The store
// implements it for all replicas; MemoryClaimer guards one process only.
type Claimer interface {
	// Take takes key for holder until until (now is the caller's clock):
	// Taken when nobody holds it (never taken, or the lease ran out) and
	// it is not done, or when holder holds it already (a renewal); Held
	// when another holder's lease runs; Done when it is done.
	Take(ctx context.Context, key, holder string, now, until time.Time) (Claim, error)
	// Finish marks key done, when holder holds it (a holder that lost its
	// lease finishes nothing).
	Finish(ctx context.Context, key, holder string) error
}

// ClaimKey is the claim key of the occurrence at of the schedule called
// name: "checklist/2026-11-24T09:30Z" (minutes, UTC).
func ClaimKey(name string, at time.Time) string {
	return name + "/" + at.UTC().Format("2006-01-02T15:04Z")
}

// MemoryClaimer is a Claimer in memory: for tests, and for a single
// replica. It does not guard several processes. It also records plain
// claims (Claim), as the store does for finished runs.
type MemoryClaimer struct {
	mu     sync.Mutex
	leases map[string]lease
	claims map[string]bool
}

type lease struct {
	holder string
	until  time.Time
	done   bool
}

// NewMemoryClaimer returns an empty MemoryClaimer.
func NewMemoryClaimer() *MemoryClaimer {
	return &MemoryClaimer{leases: map[string]lease{}, claims: map[string]bool{}}
}

// Take implements Claimer.
func (m *MemoryClaimer) Take(ctx context.Context, key, holder string, now, until time.Time) (Claim, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.leases[key]
	switch {
	case ok && l.done:
		return Done, nil
	case ok && l.holder != holder && now.Before(l.until):
		return Held, nil
	}
	m.leases[key] = lease{holder: holder, until: until}
	return Taken, nil
}

// Finish implements Claimer.
func (m *MemoryClaimer) Finish(ctx context.Context, key, holder string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.leases[key]; ok && l.holder == holder {
		l.done = true
		m.leases[key] = l
	}
	return nil
}

// Claim records key as claimed; only the first call for a key returns
// true (checklist.RunLog).
func (m *MemoryClaimer) Claim(ctx context.Context, key string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.claims[key] {
		return false, nil
	}
	m.claims[key] = true
	return true, nil
}

// Taken reports whether the occurrence key was ever taken.
func (m *MemoryClaimer) Taken(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.leases[key]
	return ok
}

// Finished reports whether the occurrence key is done.
func (m *MemoryClaimer) Finished(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.leases[key].done
}
