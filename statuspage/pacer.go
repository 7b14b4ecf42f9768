package statuspage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/opsbot/opsbot/internal/wait"
)

// pacer spaces the client's requests at least interval apart (a token
// bucket of one token), so that normal use stays under Statuspage's limit
// of one request per second per API key. Requests book their slot in
// order; a request whose slot lies beyond its context's deadline fails at
// once instead of waiting in vain. A 429's Retry-After pushes every later
// slot back.
type pacer struct {
	interval time.Duration

	mu   sync.Mutex
	next time.Time // earliest start of the next request
}

func newPacer(perSecond float64) *pacer {
	return &pacer{interval: time.Duration(float64(time.Second) / perSecond)}
}

// errPacingDeadline: waiting for the next slot would outlast the deadline.
var errPacingDeadline = errors.New("the request's turn under the rate limit comes after its deadline")

// reserve books the next slot for a request made at now and returns how
// long to wait for it, or an error (booking nothing) when the slot starts
// at or after deadline (zero: none).
func (p *pacer) reserve(now, deadline time.Time) (time.Duration, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := now
	if p.next.After(now) {
		start = p.next
	}
	if !deadline.IsZero() && !start.Before(deadline) {
		return 0, fmt.Errorf("%w (it would wait %s)", errPacingDeadline, start.Sub(now).Round(time.Millisecond))
	}
	p.next = start.Add(p.interval)
	return start.Sub(now), nil
}

// backoff keeps every request from starting before now+d.
func (p *pacer) backoff(now time.Time, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := now.Add(d); t.After(p.next) {
		p.next = t
	}
}

// wait blocks until the request's slot, or until ctx is done. A cancelled
// wait keeps its booked slot, which only makes the pace slower.
func (p *pacer) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	d, err := p.reserve(time.Now(), deadline)
	if err != nil || d <= 0 {
		return err
	}
	return wait.Sleep(ctx, d)
}
