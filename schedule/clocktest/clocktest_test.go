package clocktest

import (
	"context"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func fired(ch <-chan time.Time) (time.Time, bool) {
	select {
	case t := <-ch:
		return t, true
	default:
		return time.Time{}, false
	}
}

func TestAfterFiresWhenAdvancedPastTheDeadline(t *testing.T) {
	c := New(t0)
	a := c.After(time.Minute)
	b := c.After(time.Hour)
	if got := c.Waiting(); len(got) != 2 || !got[0].Equal(t0.Add(time.Minute)) || !got[1].Equal(t0.Add(time.Hour)) {
		t.Fatalf("Waiting = %v", got)
	}
	c.Advance(59 * time.Second)
	if _, ok := fired(a); ok {
		t.Fatal("fired before its deadline")
	}
	c.Advance(time.Second)
	if got, ok := fired(a); !ok || !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("a: %v %v", got, ok)
	}
	c.Set(t0.Add(2 * time.Hour))
	if got, ok := fired(b); !ok || !got.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("b: %v %v", got, ok)
	}
	if len(c.Waiting()) != 0 || !c.Now().Equal(t0.Add(2*time.Hour)) {
		t.Errorf("Waiting %v, Now %s", c.Waiting(), c.Now())
	}
	if _, ok := fired(c.After(0)); !ok {
		t.Error("After(0) did not fire at once")
	}
}

func TestWaitForWaiter(t *testing.T) {
	c := New(t0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		c.After(time.Minute)
		c.After(time.Minute)
	}()
	if err := c.WaitForWaiter(ctx, t0.Add(time.Minute), 2); err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithCancel(context.Background())
	cancelShort()
	if err := c.WaitForWaiter(short, t0.Add(time.Hour), 1); err == nil {
		t.Error("WaitForWaiter returned nil for a waiter that never comes")
	}
}
