package run

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// blocker blocks until its context is done, counting the stops.
func blocker(stopped *atomic.Int32) func(context.Context) error {
	return func(ctx context.Context) error {
		<-ctx.Done()
		stopped.Add(1)
		return ctx.Err()
	}
}

func TestFirstToReturnStopsTheOthers(t *testing.T) {
	boom := errors.New("boom")
	var stopped atomic.Int32
	var g Group
	g.Add("a", blocker(&stopped))
	g.Add("b", blocker(&stopped))
	g.Add("failing", func(context.Context) error { return boom })
	if err := g.Run(context.Background(), nil); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the first actor's error", err)
	}
	if n := stopped.Load(); n != 2 {
		t.Fatalf("%d actors stopped, want 2: Run returned before they did", n)
	}
}

func TestCancelledContextIsACleanStop(t *testing.T) {
	var stopped atomic.Int32
	var g Group
	g.Add("a", blocker(&stopped))
	g.Add("b", blocker(&stopped))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Run(ctx, nil); err != nil {
		t.Fatalf("Run = %v, want nil after the context ended", err)
	}
	if n := stopped.Load(); n != 2 {
		t.Fatalf("%d actors stopped, want 2", n)
	}
}

func TestAnActorReturningByItselfIsAnError(t *testing.T) {
	var stopped atomic.Int32
	var g Group
	g.Add("a", blocker(&stopped))
	g.Add("quitter", func(context.Context) error { return nil })
	err := g.Run(context.Background(), nil)
	if err == nil || err.Error() != "quitter stopped unexpectedly" {
		t.Fatalf("Run = %v, want the quitter named", err)
	}
	if n := stopped.Load(); n != 1 {
		t.Fatalf("%d actors stopped, want 1", n)
	}
}
