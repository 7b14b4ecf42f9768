package bot

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
)

// pool runs handlers on a fixed number of workers. Only the socket actor
// submits (one goroutine), so "there is room" stays true between a check
// and the submission that follows it.
type pool struct {
	workers int
	jobs    chan func(ctx context.Context)

	mu      sync.RWMutex
	closed  bool
	stopped chan struct{}
	once    sync.Once
}

func newPool(workers, queue int) *pool {
	return &pool{workers: workers, jobs: make(chan func(context.Context), queue), stopped: make(chan struct{})}
}

// hasRoom reports whether a job submitted now would be accepted.
func (p *pool) hasRoom() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return !p.closed && len(p.jobs) < cap(p.jobs)
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

// actor runs the workers. Their context is not ctx: a SIGTERM must not
// cancel a decision being written. When stopped, the pool takes no more
// work, lets the workers finish what is queued and in flight, and cancels
// their context only if that takes longer than grace.
func (p *pool) actor(ctx context.Context, grace time.Duration, log *zap.Logger) actor {
	return actor{
		name: "workers",
		run: func() error {
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
			<-p.stopped
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
		},
		stop: func() { p.once.Do(func() { close(p.stopped) }) },
	}
}
