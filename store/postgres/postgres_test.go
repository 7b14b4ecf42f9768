package postgres

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/store/postgres/pgtest"
	"github.com/opsbot/opsbot/store/storetest"
)

var durable = flag.Bool("pg.durable", false, "run the test PostgreSQL with fsync and synchronous_commit on (for benchmarks)")

// server is the throwaway PostgreSQL of this package's tests; nil when the
// binaries are missing and the tests run with -short.
var server *pgtest.Server

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	server, err = pgtest.Start(context.Background(), pgtest.Options{Durable: *durable})
	switch {
	case errors.Is(err, pgtest.ErrNotInstalled) && testing.Short():
		fmt.Fprintf(os.Stderr, "store/postgres: skipping the PostgreSQL tests (-short): %v\n", err)
	case err != nil:
		fmt.Fprintf(os.Stderr, "store/postgres: these tests need a real PostgreSQL: %v\n", err)
		return 1
	default:
		defer server.Stop()
	}
	return m.Run()
}

// freshDSN returns the DSN of a new, empty database.
func freshDSN(tb testing.TB) string {
	tb.Helper()
	if server == nil {
		tb.Skip("no PostgreSQL (-short)")
	}
	dsn, err := server.CreateDatabase(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return dsn
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		dsn := freshDSN(t)
		return func(ctx context.Context, opts ...store.Option) (storetest.Store, error) {
			return Open(ctx, dsn, zap.NewNop(), opts...)
		}
	})
}

// TestReplicas: two replicas on one database, opened (and so migrated) at
// once, see each other's writes.
func TestReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := freshDSN(t)
	dbs := make([]*DB, 2)
	errs := make([]error, 2)
	done := make(chan int)
	for i := range dbs {
		go func() {
			dbs[i], errs[i] = Open(ctx, dsn, zap.NewNop())
			done <- i
		}()
	}
	<-done
	<-done
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	storetest.CheckReplicas(t, dbs[0], dbs[1])
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "postgres://u:s3cret@127.0.0.1:1/x?sslmode=disable&connect_timeout=5", zap.NewNop()); err == nil {
		t.Error("Open of a closed port succeeded")
	} else if containsSecret(err) {
		t.Errorf("the error shows the password: %v", err)
	}
	if _, err := Open(ctx, "postgres://u:s3cret@[bad", zap.NewNop()); err == nil {
		t.Error("Open of a bad DSN succeeded")
	} else if containsSecret(err) {
		t.Errorf("the error shows the password: %v", err)
	}
}

func containsSecret(err error) bool { return strings.Contains(err.Error(), "s3cret") }

// BenchmarkDecide: decisions per second on the test server; run with
// -pg.durable for fsync and synchronous_commit on.
func BenchmarkDecide(b *testing.B) {
	for _, c := range []struct {
		name      string
		anomalies int
	}{{"spread", 64}, {"hot", 1}} {
		b.Run(c.name, func(b *testing.B) {
			db, err := Open(context.Background(), freshDSN(b), zap.NewNop())
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			storetest.BenchmarkDecide(b, db, c.anomalies)
		})
	}
}

func TestMigrations(t *testing.T) {
	db, err := Open(context.Background(), freshDSN(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckMigrations(t, db.db, goose.DialectPostgres)
}

func TestHistoryBackfill(t *testing.T) {
	db, err := Open(context.Background(), freshDSN(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckHistoryBackfill(t, db.db, goose.DialectPostgres, db)
}

// BenchmarkHistory: searches of 100,000 decided anomalies on the test
// server, with the index and without (LIKE), side by side. Seeding takes a
// while: run it alone, go test -run '^$' -bench History ./store/postgres/
func BenchmarkHistory(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, freshDSN(b), zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	storetest.SeedHistory(b, db.db, storetest.HistoryBenchSize)
	b.Logf("seeded %d decided anomalies in %s", storetest.HistoryBenchSize, time.Since(start).Round(time.Millisecond))
	storetest.BenchmarkHistory(b, db, db.db)
}
