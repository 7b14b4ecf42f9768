package triage_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/store/sqlite"
	"github.com/opsbot/opsbot/triage"
)

// writesNow is when the anomalies of these tests are opened and decided.
var writesNow = time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)

// The store goes down between the root message's post and the record of
// its link (the database is closed while PostRoot runs: every statement
// fails from then on, reads too): the root message is deleted again, the
// error says nothing was recorded, and once the store is back the same
// request posts the one thread.
func TestOpenDeletesTheRootWhenItsLinkIsNotRecorded(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "opsbot.db")
	db, err := sqlite.Open(ctx, path, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	threads := &fakeThreads{posting: func(context.Context, triage.Anomaly) { db.Close() }}
	svc, err := triage.NewService(triage.ServiceOptions{Store: db, Threads: threads})
	if err != nil {
		t.Fatal(err)
	}
	in := triage.ManualAnomaly("prod", "disk full", "U0ALICE", writesNow)
	if _, err := svc.Open(ctx, in, "cmd:1", nil); !errors.Is(err, opsbot.ErrNotRecorded) {
		t.Fatalf("Open = %v, want ErrNotRecorded", err)
	}
	posted, deleted := threads.callsOf("PostRoot"), threads.callsOf("DeleteRoot")
	if len(posted) != 1 || len(deleted) != 1 || deleted[0].TS != posted[0].TS || deleted[0].Channel != posted[0].Channel {
		t.Fatalf("posted %+v, deleted %+v: the root message outlived its failed link", posted, deleted)
	}

	// The store is back (a restart): the same request, delivered again.
	db2, err := sqlite.Open(ctx, path, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })
	threads2 := &fakeThreads{}
	svc2, err := triage.NewService(triage.ServiceOptions{Store: db2, Threads: threads2})
	if err != nil {
		t.Fatal(err)
	}
	o, err := svc2.Open(ctx, in, "cmd:1", nil)
	if err != nil || !o.Posted || !o.Anomaly.HasThread() {
		t.Fatalf("Open once the store is back = %+v, %v", o, err)
	}
	if m := threads2.methods(); len(m) != 1 || m[0] != "PostRoot" {
		t.Errorf("port calls once the store is back: %v, want one PostRoot", m)
	}
	open, err := db2.ListOpen(ctx, "")
	if err != nil || len(open) != 1 || open[0].ThreadTS != o.Anomaly.ThreadTS {
		t.Errorf("open anomalies = %+v, %v; want the one, with its thread", open, err)
	}
}

// lostAnswerStore records the link, then reports an error: a COMMIT whose
// answer was lost.
type lostAnswerStore struct {
	triage.Store
}

func (s lostAnswerStore) LinkThread(ctx context.Context, id int64, channel, ts, key string) (triage.Anomaly, error) {
	if _, err := s.Store.LinkThread(ctx, id, channel, ts, key); err != nil {
		return triage.Anomaly{}, err
	}
	return triage.Anomaly{}, errors.New("driver: bad connection")
}

// A link recorded despite its error is found by reading the anomaly again:
// the root message stays, and the opening succeeded.
func TestOpenKeepsTheRootWhenItsLinkWasRecordedDespiteAnError(t *testing.T) {
	r := newRig(t)
	svc, err := triage.NewService(triage.ServiceOptions{Store: lostAnswerStore{r.store}, Threads: r.threads})
	if err != nil {
		t.Fatal(err)
	}
	o, err := svc.Open(r.ctx, triage.ManualAnomaly("prod", "disk full", "U0ALICE", writesNow), "cmd:1", nil)
	if err != nil || !o.Posted || !o.Created || !o.Anomaly.HasThread() {
		t.Fatalf("Open = %+v, %v", o, err)
	}
	if m := r.threads.methods(); len(m) != 1 || m[0] != "PostRoot" {
		t.Errorf("port calls: %v, want the one PostRoot", m)
	}
}

// A decision the store cannot record posts nothing, and says so.
func TestDecideStoreDownPostsNothing(t *testing.T) {
	r := newRig(t)
	o := r.open(t, "disk full", "cmd:1")
	r.threads.methods()
	r.store.Close()
	_, _, err := r.svc.Decide(r.ctx, o.Anomaly.ID, record(triage.Noise, writesNow), "view:1")
	if !errors.Is(err, opsbot.ErrNotRecorded) {
		t.Fatalf("Decide = %v, want ErrNotRecorded", err)
	}
	if m := r.threads.methods(); len(m) != 0 {
		t.Errorf("port calls for a decision not recorded: %v", m)
	}
}
