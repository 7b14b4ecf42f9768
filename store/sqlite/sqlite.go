// Package sqlite is opsbot's embedded store: triage.Store on one SQLite file
// (modernc.org/sqlite, pure Go), for a single replica.
//
// The file is opened twice: one connection for writes and a small pool for
// reads. Every write transaction runs on the single write connection with
// BEGIN IMMEDIATE, so writes are serialized in Go's connection queue (no
// busy-waiting between our own writers) and a transaction never has to
// upgrade a read lock. Readers never block the writer (WAL). Commits are
// durable: synchronous=FULL fsyncs the WAL on every commit.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"

	"github.com/pressly/goose/v3"
	"go.uber.org/zap"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/opsbot/opsbot/store"
)

// BusyTimeoutMS is how long a connection waits for another process's lock on
// the file before giving up.
const BusyTimeoutMS = 10000

// Dialect is SQLite's store.Dialect.
var Dialect = store.Dialect{
	Name:              "sqlite",
	ForUpdate:         "", // write transactions are BEGIN IMMEDIATE on one connection
	IsUniqueViolation: isUniqueViolation,
	IsTransient:       isTransient,
	FullText:          store.FTS5,
}

// DB is a triage.Store on a SQLite file. Close it when done.
type DB struct {
	*store.DB
	write, read *sql.DB
}

// Open opens (creating it if needed) the SQLite database at path, migrates
// its schema and returns the store. The directory must exist.
func Open(ctx context.Context, path string, logger *zap.Logger, opts ...store.Option) (*DB, error) {
	if logger == nil {
		logger = zap.NewNop()
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: database path %q: want a plain file path", path)
	}
	common := url.Values{
		"_busy_timeout": {fmt.Sprint(BusyTimeoutMS)},
		"_foreign_keys": {"1"},
		"_synchronous":  {"FULL"},
	}
	w := cloneValues(common)
	w.Set("_journal_mode", "WAL")
	w.Set("_txlock", "immediate")
	r := cloneValues(common)
	r.Set("_query_only", "1")

	write, err := sql.Open("sqlite", path+"?"+w.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	if err := checkPragmas(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := store.Migrate(ctx, write, goose.DialectSQLite3, logger); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}

	read, err := sql.Open("sqlite", path+"?"+r.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := read.PingContext(ctx); err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	logger.Debug("sqlite store open", zap.String("path", path))
	return &DB{DB: store.New(write, read, Dialect, logger, opts...), write: write, read: read}, nil
}

// Close closes the database.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.write.Close())
}

// checkPragmas makes sure the settings durability depends on took effect
// (journal_mode=WAL silently stays "delete" on file systems without shared
// memory, for instance).
func checkPragmas(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct{ name, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
	} {
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&got); err != nil {
			return fmt.Errorf("PRAGMA %s: %w", p.name, err)
		}
		if !strings.EqualFold(got, p.want) {
			return fmt.Errorf("PRAGMA %s is %q, want %q", p.name, got, p.want)
		}
	}
	return nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func sqliteCode(err error) (int, bool) {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return 0, false
	}
	return e.Code(), true
}

func isUniqueViolation(err error) bool {
	code, ok := sqliteCode(err)
	return ok && (code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

func isTransient(err error) bool {
	code, ok := sqliteCode(err)
	return ok && (code&0xff == sqlite3.SQLITE_BUSY || code&0xff == sqlite3.SQLITE_LOCKED)
}
