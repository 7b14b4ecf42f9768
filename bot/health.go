package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/opsbot/opsbot/triage"
)

// connState is what the socket actor knows of the Socket Mode connection.
type connState struct {
	mu          sync.Mutex
	isConnected bool
	since       time.Time
	changed     chan struct{} // closed and replaced on every change
}

func (c *connState) set(up bool, now time.Time) (was bool, since time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	was, since = c.isConnected, c.since
	if up != c.isConnected {
		c.isConnected, c.since = up, now
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

// healthHandler serves /healthz (the process answers) and /readyz
// (connected to Slack and the store reachable).
func (b *Bot) healthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !b.state.connected() {
			http.Error(w, "slack: not connected", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := b.pingStore(ctx); err != nil {
			b.log.Warn("readiness: store unreachable")
			http.Error(w, "store: unreachable", http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintln(w, "ok")
	})
	return mux
}

func (b *Bot) pingStore(ctx context.Context) error {
	if b.opts.StorePing != nil {
		return b.opts.StorePing(ctx)
	}
	if _, err := b.store.Get(ctx, 0); err != nil && !errors.Is(err, triage.ErrNotFound) {
		return err
	}
	return nil
}
