package bot

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"
)

// actor is a long-running part of the bot, in the style of oklog/run: run
// blocks until the actor is done; stop makes run return soon.
type actor struct {
	name string
	run  func() error
	stop func()
}

// runActors runs every actor; when the first returns, it stops the others,
// waits for them and returns the first one's error.
func runActors(log *zap.Logger, actors ...actor) error {
	type result struct {
		name string
		err  error
	}
	done := make(chan result, len(actors))
	for _, a := range actors {
		go func() { done <- result{a.name, a.run()} }()
	}
	first := <-done
	if first.err != nil {
		log.Info("stopping", zap.String("cause", first.name), zap.Error(first.err))
	} else {
		log.Info("stopping", zap.String("cause", first.name))
	}
	for _, a := range actors {
		a.stop()
	}
	for range len(actors) - 1 {
		r := <-done
		if r.err != nil && !errors.Is(r.err, context.Canceled) {
			log.Warn("actor stopped with an error", zap.String("actor", r.name), zap.Error(r.err))
		}
	}
	return first.err
}

// contextActor returns when ctx is done (SIGTERM): the signal is one more
// actor.
func contextActor(ctx context.Context) actor {
	stop := make(chan struct{})
	var once sync.Once
	return actor{
		name: "signal",
		run: func() error {
			select {
			case <-ctx.Done():
			case <-stop:
			}
			return nil
		},
		stop: func() { once.Do(func() { close(stop) }) },
	}
}

// healthActor serves the health endpoints on ln.
func healthActor(ln net.Listener, h http.Handler, log *zap.Logger) actor {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	return actor{
		name: "health",
		run: func() error {
			log.Info("health server listening", zap.String("addr", ln.Addr().String()))
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
		stop: func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
		},
	}
}
