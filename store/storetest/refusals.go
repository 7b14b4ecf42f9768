package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/opsbot/opsbot"
)

// refusalTests are the cases of the audit record of refused requests.
var refusalTests = []struct {
	name string
	fn   func(t *testing.T, o Opener)
}{
	{"RecordRefusal", testRecordRefusal},
	{"RecordRefusalInvalid", testRecordRefusalInvalid},
	{"RecordRefusalConcurrent", testRecordRefusalConcurrent},
}

func refusal(key string, minutes int, reason string) opsbot.Refusal {
	return opsbot.Refusal{Key: key, At: at(minutes), UserID: "U0BOB", TeamID: "T0001", EnterpriseID: "E0001",
		Channel: "C0RANDOM", Action: "/ops checklist", Reason: reason}
}

// testRecordRefusal: a refusal is recorded once per key, whatever the
// number of deliveries and restarts, and read back newest first, from a
// time on, up to a limit, exactly as it was written.
func testRecordRefusal(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	if got, err := s.Refusals(ctx, at(0), 0); err != nil || len(got) != 0 {
		t.Fatalf("Refusals of an empty store = %v, %v", got, err)
	}
	first := refusal("cmd:T1", 1, opsbot.ReasonChannel)
	second := refusal("click:1764.0001:triage.decide.noise", 2, opsbot.ReasonNotDecider)
	second.Action, second.EnterpriseID = "triage.decide.noise", ""
	for _, r := range []opsbot.Refusal{first, second} {
		if added, err := s.RecordRefusal(ctx, r); err != nil || !added {
			t.Fatalf("RecordRefusal(%s) = %v, %v; want added", r.Key, added, err)
		}
	}
	// The same request again, on another replica and after a restart:
	// nothing more, even with other details.
	again := first
	again.At, again.Reason = at(5), opsbot.ReasonDirectMessage
	if added, err := open(t, o).RecordRefusal(ctx, again); err != nil || added {
		t.Fatalf("RecordRefusal(%s) again = %v, %v; want not added", again.Key, added, err)
	}
	s.Close()
	s = open(t, o)
	got, err := s.Refusals(ctx, at(0), 0)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "refusals", got, []opsbot.Refusal{second, first})
	if got, err = s.Refusals(ctx, at(2), 0); err != nil {
		t.Fatal(err)
	}
	equal(t, "refusals since minute 2", got, []opsbot.Refusal{second})
	if got, err = s.Refusals(ctx, at(0), 1); err != nil {
		t.Fatal(err)
	}
	equal(t, "the last refusal", got, []opsbot.Refusal{second})
}

// testRecordRefusalInvalid: an invalid refusal is a ValidationError and
// records nothing.
func testRecordRefusalInvalid(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	bad := map[string]func(*opsbot.Refusal){
		"no key":         func(r *opsbot.Refusal) { r.Key = "" },
		"no time":        func(r *opsbot.Refusal) { r.At = at(0).AddDate(-100, 0, 0) },
		"unknown reason": func(r *opsbot.Refusal) { r.Reason = "bored" },
		"no action":      func(r *opsbot.Refusal) { r.Action = " " },
		"NUL in a user":  func(r *opsbot.Refusal) { r.UserID = "U\x00" },
	}
	for name, mod := range bad {
		r := refusal("cmd:"+name, 1, opsbot.ReasonChannel)
		mod(&r)
		added, err := s.RecordRefusal(ctx, r)
		if added || !errors.Is(err, opsbot.ErrInvalid) {
			t.Errorf("%s: RecordRefusal = %v, %v; want a validation error", name, added, err)
		}
	}
	if got, err := s.Refusals(ctx, at(-60), 0); err != nil || len(got) != 0 {
		t.Errorf("after invalid refusals: %v, %v; want none", got, err)
	}
}

// testRecordRefusalConcurrent: replicas recording the same refusal at once
// record it once, and exactly one of them is told it added it.
func testRecordRefusalConcurrent(t *testing.T, o Opener) {
	ctx := context.Background()
	const n = 8
	stores := make([]Store, n)
	for i := range stores {
		stores[i] = open(t, o)
	}
	var (
		wg    sync.WaitGroup
		added atomic.Int32
		errs  = make(chan error, n)
	)
	for _, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.RecordRefusal(ctx, refusal("cmd:T2", 1, opsbot.ReasonChannel))
			if err != nil {
				errs <- err
			}
			if ok {
				added.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if added.Load() != 1 {
		t.Errorf("%d replicas were told they added the refusal; want 1", added.Load())
	}
	if got, err := stores[0].Refusals(ctx, at(0), 0); err != nil || len(got) != 1 {
		t.Errorf("refusals = %v, %v; want one", got, err)
	}
}
