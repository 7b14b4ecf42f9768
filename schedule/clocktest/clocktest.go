// Package clocktest is a fake clock for testing code that waits on a
// schedule.Clock: time moves only when the test says so, and the test can
// wait until the code under test is waiting, without sleeping.
package clocktest

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Clock is a fake clock. The zero value is not usable; create it with New.
// It is safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	// changed is closed (and replaced) whenever the waiters or the time
	// change.
	changed chan struct{}
}

type waiter struct {
	deadline time.Time
	ch       chan time.Time
}

// New returns a fake clock showing now.
func New(now time.Time) *Clock {
	return &Clock{now: now, changed: make(chan struct{})}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives the clock's time once the clock
// has been moved d or more forward (at once when d <= 0).
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{deadline: c.now.Add(d), ch: ch})
	c.notifyLocked()
	return ch
}

// Advance moves the clock d forward and fires the waiters that are due, in
// deadline order.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(c.now.Add(d))
}

// Set moves the clock to t (forward or back) and fires the waiters that are
// due.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(t)
}

func (c *Clock) setLocked(t time.Time) {
	c.now = t
	slices.SortStableFunc(c.waiters, func(a, b waiter) int { return a.deadline.Compare(b.deadline) })
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.deadline.After(t) {
			w.ch <- t
			continue
		}
		keep = append(keep, w)
	}
	clear(c.waiters[len(keep):])
	c.waiters = keep
	c.notifyLocked()
}

func (c *Clock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Waiting returns the deadlines of the pending waiters, earliest first.
func (c *Clock) Waiting() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Time, len(c.waiters))
	for i, w := range c.waiters {
		out[i] = w.deadline
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// WaitFor blocks until cond, given the pending deadlines (earliest first),
// returns true, or ctx is done.
func (c *Clock) WaitFor(ctx context.Context, cond func(deadlines []time.Time) bool) error {
	for {
		c.mu.Lock()
		changed := c.changed
		c.mu.Unlock()
		if cond(c.Waiting()) {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-changed:
		}
	}
}

// WaitForWaiter blocks until n or more waiters are pending with deadline t
// (n < 1 counts as 1), or ctx is done.
func (c *Clock) WaitForWaiter(ctx context.Context, t time.Time, n int) error {
	n = max(n, 1)
	return c.WaitFor(ctx, func(ds []time.Time) bool {
		k := 0
		for _, d := range ds {
			if d.Equal(t) {
				k++
			}
		}
		return k >= n
	})
}
