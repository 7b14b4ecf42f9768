package pgtest

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStartStop(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx, Options{Settings: map[string]string{"max_connections": "23"}})
	if errors.Is(err, ErrNotInstalled) && testing.Short() {
		t.Skipf("-short: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()

	dsn, err := s.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dsn, "postgres://postgres@127.0.0.1:") {
		t.Errorf("DSN = %q", dsn)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	var version, db, listen, fsync, maxConns string
	err = conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_database(),
		current_setting('listen_addresses'), current_setting('fsync'), current_setting('max_connections')`).
		Scan(&version, &db, &listen, &fsync, &maxConns)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(version, "15") || db != "test_1" || listen != "127.0.0.1" || fsync != "off" {
		t.Errorf("server %s, database %s, listening on %s, fsync %s", version, db, listen, fsync)
	}
	if maxConns != "23" {
		t.Errorf("max_connections = %s, want 23 (Options.Settings)", maxConns)
	}
	if dsn2, err := s.CreateDatabase(ctx); err != nil || dsn2 == dsn {
		t.Errorf("second database: %q, %v", dsn2, err)
	}

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("directory %s still there: %v", s.dir, err)
	}
	select {
	case <-s.exited:
	default:
		t.Error("server still running after Stop")
	}
	if _, err := pgx.Connect(ctx, dsn); err == nil {
		t.Error("connected after Stop")
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestNotInstalled(t *testing.T) {
	_, err := Start(context.Background(), Options{BinDir: t.TempDir()})
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "install PostgreSQL 15") {
		t.Errorf("Start without binaries: %v", err)
	}
}
