package bot

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
)

// pool runs handlers on a fixed number of workers, behind a bounded queue.
// The socket reader submits, and so do the view workers (the work after a
// submission's ack): submit is the only test of room.
type pool struct {
	workers int
	jobs    chan func(ctx context.Context)

	mu     sync.RWMutex
	closed bool
}

func newPool(workers, queue int) *pool {
	return &pool{workers: workers, jobs: make(chan func(context.Context), queue)}
}

// submit queues fn; false when the pool is full or shutting down.
func (p *pool) submit(fn func(ctx context.Context)) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return false
	}
	select {
	case p.jobs <- fn:
		return true
	default:
		return false
	}
}

// run runs the workers until ctx is done. Their context is not ctx: a
// SIGTERM must not cancel a decision being written. Once ctx is done, the
// pool takes no more work, lets the workers finish what is queued and in
// flight, and cancels their context only if that takes longer than grace.
func (p *pool) run(ctx context.Context, grace time.Duration, log *zap.Logger) error {
	workCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	var wg sync.WaitGroup
	for range p.workers {
		wg.Go(func() {
			for fn := range p.jobs {
				fn(workCtx)
			}
		})
	}
	<-ctx.Done()
	p.mu.Lock()
	p.closed = true
	close(p.jobs)
	p.mu.Unlock()

	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-drained:
		log.Info("handlers finished")
	case <-t.C:
		log.Warn("handlers still running after the shutdown grace period; cancelling them", zap.Duration("grace", grace))
		cancel()
		<-drained
	}
	return nil
}
