package wait

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSleepReturnsAfterThePause(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep = %v, want nil", err)
	}
	if err := Sleep(context.Background(), -time.Second); err != nil {
		t.Fatalf("Sleep(negative) = %v, want nil", err)
	}
}

func TestSleepEndsWithTheContextsCause(t *testing.T) {
	stop := errors.New("shutting down")
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() { done <- Sleep(ctx, time.Hour) }()
	cancel(stop)
	if err := <-done; !errors.Is(err, stop) {
		t.Fatalf("Sleep = %v, want the cause %v", err, stop)
	}
	// A context done already wins even over a zero pause.
	if err := Sleep(ctx, 0); !errors.Is(err, stop) {
		t.Fatalf("Sleep(done ctx, 0) = %v, want the cause", err)
	}
}
