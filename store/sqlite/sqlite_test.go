package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/store/storetest"
	"github.com/opsbot/opsbot/triage"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		path := filepath.Join(t.TempDir(), "opsbot.db")
		return func(ctx context.Context, opts ...store.Option) (storetest.Store, error) {
			return Open(ctx, path, zap.NewNop(), opts...)
		}
	})
}

func TestOpenSettings(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "opsbot.db"), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The settings durability depends on, on both pools.
	for name, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1",
		"busy_timeout": "10000"} {
		for _, p := range []struct {
			what string
			q    func() (string, error)
		}{
			{"write", func() (s string, err error) { err = db.write.QueryRowContext(ctx, "PRAGMA "+name).Scan(&s); return }},
			{"read", func() (s string, err error) { err = db.read.QueryRowContext(ctx, "PRAGMA "+name).Scan(&s); return }},
		} {
			got, err := p.q()
			if err != nil || got != want {
				t.Errorf("%s pool: PRAGMA %s = %q, %v; want %q", p.what, name, got, err, want)
			}
		}
	}
	if _, err := db.read.ExecContext(ctx, "DELETE FROM anomalies"); err == nil {
		t.Error("the read pool can write")
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro",
		filepath.Join(t.TempDir(), "missing", "opsbot.db")} {
		if db, err := Open(ctx, path, zap.NewNop()); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

// TestTwoHandles: the bot and a command-line tool on the same file.
func TestTwoHandles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "opsbot.db")
	var dbs [2]*DB
	for i := range dbs {
		db, err := Open(ctx, path, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs[i] = db
	}
	storetest.CheckReplicas(t, dbs[0], dbs[1])
}

// BenchmarkDecide: decisions per second on a file, with synchronous=FULL
// (an fsync per commit).
func BenchmarkDecide(b *testing.B) {
	for _, c := range []struct {
		name      string
		anomalies int
	}{{"spread", 64}, {"hot", 1}} {
		b.Run(c.name, func(b *testing.B) {
			db, err := Open(context.Background(), filepath.Join(b.TempDir(), "opsbot.db"), zap.NewNop())
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			storetest.BenchmarkDecide(b, db, c.anomalies)
		})
	}
}

func TestMigrations(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "opsbot.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckMigrations(t, db.write, goose.DialectSQLite3)
}

// TestFailureHook: a write that fails for the database's sake is reported
// to the hook with its operation; one refused for its input is not.
func TestFailureHook(t *testing.T) {
	ctx := context.Background()
	var failed []string
	db, err := Open(ctx, filepath.Join(t.TempDir(), "opsbot.db"), zap.NewNop(),
		store.WithFailureHook(func(op string) { failed = append(failed, op) }))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	in := triage.Anomaly{Environment: "prod", Fingerprint: "pods/shop/api/CrashLoopBackOff", Title: "api crash-looping",
		Source: triage.SourceChecklist, OpenedBy: "U0ALICE", OpenedAt: now}
	if _, _, err := db.OpenAnomaly(ctx, triage.Anomaly{}, "open:1"); err == nil {
		t.Fatal("an empty anomaly was accepted")
	}
	if _, err := db.Decide(ctx, 999, triage.DecisionRecord{Decision: triage.Noise, Conclusion: "x", DecidedBy: "U0ALICE", DecidedAt: now}, "decide:1"); err == nil {
		t.Fatal("a decision on no anomaly was accepted")
	}
	if len(failed) != 0 {
		t.Fatalf("refused inputs reported as store failures: %q", failed)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.OpenAnomaly(ctx, in, "open:2"); err == nil {
		t.Fatal("a closed database took a write")
	}
	if len(failed) != 1 || failed[0] != store.OpOpenAnomaly {
		t.Errorf("failures reported: %q, want one %q", failed, store.OpOpenAnomaly)
	}
}

func TestHistoryBackfill(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "opsbot.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckHistoryBackfill(t, db.write, goose.DialectSQLite3, db)
}

// BenchmarkHistory: searches of 100,000 decided anomalies in a file, with
// the index and without (LIKE), side by side. Seeding takes a while: run
// it alone, go test -run '^$' -bench History ./store/sqlite/
func BenchmarkHistory(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "opsbot.db"), zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	storetest.SeedHistory(b, db.write, storetest.HistoryBenchSize)
	b.Logf("seeded %d decided anomalies in %s", storetest.HistoryBenchSize, time.Since(start).Round(time.Millisecond))
	storetest.BenchmarkHistory(b, db, db.read)
}
