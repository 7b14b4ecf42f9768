package bot

import (
	"context"
	"sync"
	"time"
)

// connState is what the socket actor knows of the Socket Mode connection.
type connState struct {
	mu          sync.Mutex
	isConnected bool
	since       time.Time
	changed     chan struct{} // closed and replaced on every change
	onChange    func(up bool) // may be nil
}

func (c *connState) set(up bool, now time.Time) (was bool, since time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	was, since = c.isConnected, c.since
	if up != c.isConnected {
		c.isConnected, c.since = up, now
		if c.onChange != nil {
			c.onChange(up)
		}
		if c.changed != nil {
			close(c.changed)
		}
		c.changed = make(chan struct{})
	}
	return was, since
}

// wait blocks until the connection state is up, or ctx is done.
func (c *connState) wait(ctx context.Context, up bool) error {
	for {
		c.mu.Lock()
		if c.isConnected == up {
			c.mu.Unlock()
			return nil
		}
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

func (c *connState) connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.isConnected
}
