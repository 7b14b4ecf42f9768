package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/opsbot/opsbot/triage"
)

// threadTests check LinkThread's compare-and-set: two replicas that each
// posted a root message for one anomaly link one thread between them.
var threadTests = []struct {
	name string
	fn   func(t *testing.T, o Opener)
}{
	{"LinkThreadCompareAndSet", testLinkThreadCompareAndSet},
	{"ConcurrentLinkThread", testConcurrentLinkThread},
}

func testLinkThreadCompareAndSet(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	a := mustOpenAnomaly(t, s, newAnomaly("prod", "pods/x"), "o1")
	won, err := s.LinkThread(ctx, a.ID, "C1", "1.000100", "link:replica1")
	if err != nil || won.ThreadTS != "1.000100" || won.Channel != "C1" {
		t.Fatalf("first link = %+v, %v", won, err)
	}
	// The second replica's post: not recorded; the winner's thread comes back.
	lost, err := s.LinkThread(ctx, a.ID, "C2", "2.000200", "link:replica2")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "the loser's link", lost, won)
	equal(t, "Get after the loser's link", mustGet(t, s, a.ID), won)
	// The loser retried with its key: still the winner's thread.
	again, err := s.LinkThread(ctx, a.ID, "C2", "2.000200", "link:replica2")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "the loser's link retried", again, won)
	_, tl := checkConsistent(t, s, a.ID)
	n := 0
	for _, e := range tl {
		if e.Kind == triage.KindThreadLinked {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d thread_linked entries, want 1: %+v", n, tl)
	}
}

func testConcurrentLinkThread(t *testing.T, o Opener) {
	ctx := context.Background()
	s1 := open(t, o)
	s2 := open(t, o) // a second replica on the same database
	replicas := []triage.Store{s1, s2}
	a := mustOpenAnomaly(t, s1, newAnomaly("prod", "pods/x"), "o1")
	got := make([]triage.Anomaly, 8)
	errs := make([]error, 8)
	run(8, func(i int) {
		got[i], errs[i] = replicas[i%2].LinkThread(ctx, a.ID, "C1", fmt.Sprintf("%d.000100", i+1), fmt.Sprintf("link:%d", i))
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("LinkThread %d: %v", i, err)
		}
		if got[i].ThreadTS != got[0].ThreadTS || got[i].ThreadTS == "" {
			t.Errorf("LinkThread %d returned thread %q, another %q", i, got[i].ThreadTS, got[0].ThreadTS)
		}
	}
	equal(t, "Get", mustGet(t, s2, a.ID).ThreadTS, got[0].ThreadTS)
	_, tl := checkConsistent(t, s1, a.ID)
	n := 0
	for _, e := range tl {
		if e.Kind == triage.KindThreadLinked {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d thread_linked entries, want 1", n)
	}
}
