// Package run runs the long-lived parts of a process as peers, in the
// style of oklog/run: each blocks until its context is done; the first to
// return stops the others.
package run

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"
)

// Group is a set of actors. The zero Group is ready to use.
type Group struct {
	actors []actor
}

type actor struct {
	name string
	run  func(ctx context.Context) error
}

// Add adds an actor: run must block until ctx is done (or it fails) and
// then return soon.
func (g *Group) Add(name string, run func(ctx context.Context) error) {
	g.actors = append(g.actors, actor{name: name, run: run})
}

// Run runs every actor until ctx is done or one of them returns; then it
// cancels the others' context, waits for them all and returns the first
// one's error: nil when ctx ended it (a signal is a clean stop), an error
// saying so when an actor returned nil by itself. The others' errors are
// logged, but context.Canceled.
func (g *Group) Run(ctx context.Context, log *zap.Logger) error {
	if log == nil {
		log = zap.NewNop()
	}
	if len(g.actors) == 0 {
		<-ctx.Done()
		return nil
	}
	type result struct {
		name string
		err  error
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan result, len(g.actors))
	for _, a := range g.actors {
		go func() { done <- result{a.name, a.run(actx)} }()
	}
	first := <-done
	cause := first.name
	switch {
	case ctx.Err() != nil:
		cause = "signal"
		if errors.Is(first.err, context.Canceled) {
			first.err = nil
		}
	case first.err == nil:
		// An actor runs until it is stopped: one that returns by itself
		// stopped the process for no reason it could say.
		first.err = fmt.Errorf("%s stopped unexpectedly", first.name)
	}
	if first.err != nil {
		log.Info("stopping", zap.String("cause", cause), zap.Error(first.err))
	} else {
		log.Info("stopping", zap.String("cause", cause))
	}
	cancel()
	for range len(g.actors) - 1 {
		r := <-done
		if r.err != nil && !errors.Is(r.err, context.Canceled) {
			log.Warn("actor stopped with an error", zap.String("actor", r.name), zap.Error(r.err))
		}
	}
	return first.err
}
