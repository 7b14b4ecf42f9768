// Package store is the persistence shared by opsbot's database backends:
// the one migration set (goose, embedded) and an implementation of
// triage.Store over database/sql that store/sqlite and store/postgres
// parameterise with a Dialect. The SQL is written once, portable to both:
// $N placeholders (which SQLite also accepts), BIGINT Unix-nanosecond times,
// ids from a counter table.
//
// # Guarantees
//
// Every write is one transaction: it locks the anomaly (SELECT ... FOR UPDATE
// in PostgreSQL; SQLite's write transactions, BEGIN IMMEDIATE on a single
// connection, already exclude each other), checks the idempotency key
// against the timeline, updates the anomaly with a version guard (WHERE
// version = the version read) and appends one timeline entry whose Seq is the
// new version. A unique index on the timeline's idempotency keys, and a
// partial unique index allowing one open anomaly per (environment,
// fingerprint), back the checks up: a transaction that trips one is run again
// from the start, and then sees what the other wrote.
//
// Times are stored as Unix nanoseconds; values returned by the store are in
// UTC with no monotonic reading, so a value returned by a write equals
// (reflect.DeepEqual) the same anomaly read back later.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/opsbot/opsbot"
	"go.uber.org/zap"
)

// Operation names, passed to the WithBeforeCommit hook.
const (
	OpOpenAnomaly    = "open_anomaly"
	OpLinkThread     = "link_thread"
	OpDecide         = "decide"
	OpRecordSighting = "record_sighting"
	OpEscalate       = "escalate"
	OpEscalationPost = "escalation_post"
	OpRecordSilence  = "record_silence"
	OpChangeSilence  = "change_silence"
)

// Dialect is what differs between the backends.
type Dialect struct {
	// Name is for logs and errors: "sqlite", "postgres".
	Name string
	// ForUpdate is appended to the SELECT that reads the row a write
	// transaction is about to change: " FOR UPDATE" for PostgreSQL, "" for
	// SQLite.
	ForUpdate string
	// IsUniqueViolation reports a unique-constraint violation.
	IsUniqueViolation func(error) bool
	// IsTransient reports an error after which the whole transaction may be
	// run again: serialization failure, deadlock, busy database.
	IsTransient func(error) bool
	// FullText is the full-text index the schema has (see historyVersion).
	FullText FullText
}

// FullText is a backend's kind of full-text index.
type FullText int

// The full-text indexes.
const (
	// FTS5 is SQLite's: the virtual table history_fts, ranked by bm25.
	FTS5 FullText = iota + 1
	// TSVector is PostgreSQL's: history_search's tsvector column with a GIN
	// index, ranked by ts_rank.
	TSVector
)

// Option configures a DB.
type Option func(*options)

type options struct {
	failed       func(op string)
	now          func() time.Time
	beforeCommit func(ctx context.Context, op string) error
	rankLimit    int
}

// WithFailureHook calls failed with the operation ("decide",
// "announce"...) of every write that fails for a reason other than its
// input: not invalid, not found, no conflict (the database is down, a
// statement failed). For the store_errors_total metric.
func WithFailureHook(failed func(op string)) Option {
	return func(o *options) { o.failed = failed }
}

// WithClock sets the clock used for the times the store stamps itself (the
// thread_linked entry). Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithBeforeCommit sets a function run inside every write transaction, after
// its writes and just before COMMIT, with the operation's name (OpDecide...).
// If it returns an error, or cancels the transaction's context, the
// transaction is rolled back. It exists for fault-injection tests (a crash
// mid-transaction); production code does not set it.
func WithBeforeCommit(fn func(ctx context.Context, op string) error) Option {
	return func(o *options) { o.beforeCommit = fn }
}

// WithRankLimit sets how many of the newest matches a history search
// ranks (see history.MaxRanked, the default): tests lower it so that a few
// anomalies exceed it. n < 1 keeps the default.
func WithRankLimit(n int) Option {
	return func(o *options) { o.rankLimit = n }
}

// DB implements triage.Store on database/sql. Backends embed it.
type DB struct {
	write *sql.DB // write transactions
	read  *sql.DB // reads outside transactions
	d     Dialect
	log   *zap.Logger
	opts  options
}

// New returns a store writing through write and reading through read (which
// may be the same pool); logger may be nil. The schema must be migrated (Migrate). New does
// not take ownership of the pools: the backend closes them.
func New(write, read *sql.DB, d Dialect, logger *zap.Logger, opts ...Option) *DB {
	if logger == nil {
		logger = zap.NewNop()
	}
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	return &DB{write: write, read: read, d: d, log: logger, opts: o}
}

// Ping checks that the database answers, for the readiness probe.
func (s *DB) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("%s: %w", s.d.Name, err)
	}
	if s.read != s.write {
		if err := s.read.PingContext(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.d.Name, err)
		}
	}
	return nil
}

// maxAttempts bounds how many times a transaction that raced another is run.
const maxAttempts = 5

// errRetry: the transaction found that another changed what it read (the
// version guard); run it again.
var errRetry = errors.New("concurrent update")

// inTx runs fn in a write transaction, again if it raced another one.
func (s *DB) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) (err error) {
	defer func() {
		if err != nil && s.opts.failed != nil && !errors.Is(err, opsbot.ErrInvalid) &&
			!errors.Is(err, opsbot.ErrNotFound) && !errors.Is(err, opsbot.ErrConflict) {
			s.opts.failed(op)
		}
	}()
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = s.tryTx(ctx, op, fn)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			// Drivers report an interrupted statement variously ("bad
			// connection", "transaction has already been committed or rolled
			// back"); say why it was interrupted.
			if !errors.Is(err, ctx.Err()) {
				err = fmt.Errorf("%w: %w", ctx.Err(), err)
			}
			return err
		}
		unique := s.d.IsUniqueViolation(err)
		if !unique && !errors.Is(err, errRetry) && !s.d.IsTransient(err) {
			return err
		}
		if attempt == maxAttempts {
			if unique || errors.Is(err, errRetry) {
				err = fmt.Errorf("%w: %v", opsbot.ErrConflict, err)
			}
			break
		}
		s.log.Debug("transaction raced another; running it again",
			zap.String("op", op), zap.Int("attempt", attempt), zap.Error(err))
	}
	return fmt.Errorf("after %d attempts: %w", maxAttempts, err)
}

func (s *DB) tryTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) (err error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // already rolled back if ctx is done
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if s.opts.beforeCommit != nil {
		if err = s.opts.beforeCommit(ctx, op); err != nil {
			return err
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
