// Package postgres is opsbot's shared store: triage.Store on PostgreSQL
// (pgx through database/sql), for several replicas of the bot.
//
// Write transactions run at READ COMMITTED and lock the anomaly they change
// (SELECT ... FOR UPDATE), so writes to one anomaly are serialized across
// every replica; creating anomalies locks the id counter row. Replicas
// starting together migrate the schema one at a time (goose's advisory-lock
// session locker).
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/store"
)

// MaxOpenConns bounds the connections one replica opens.
const MaxOpenConns = 16

// Dialect is PostgreSQL's store.Dialect.
var Dialect = store.Dialect{
	Name:              "postgres",
	ForUpdate:         " FOR UPDATE",
	IsUniqueViolation: func(err error) bool { return pgCode(err) == "23505" },
	IsTransient: func(err error) bool {
		switch pgCode(err) {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return true
		}
		return false
	},
	FullText: store.TSVector,
}

// DB is a triage.Store on PostgreSQL. Close it when done.
type DB struct {
	*store.DB
	db *sql.DB
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string; the password may come from PGPASSWORD or ~/.pgpass),
// migrates its schema and returns the store.
func Open(ctx context.Context, dsn string, logger *zap.Logger, opts ...store.Option) (*DB, error) {
	if logger == nil {
		logger = zap.NewNop()
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors redact the password.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(MaxOpenConns)
	db.SetMaxIdleConns(MaxOpenConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	where := fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", where, err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300)) // poll each second, 5 minutes
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := store.Migrate(ctx, db, goose.DialectPostgres, logger, goose.WithSessionLocker(locker)); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %s: %w", where, err)
	}
	logger.Debug("postgres store open", zap.String("database", where))
	return &DB{DB: store.New(db, db, Dialect, logger, opts...), db: db}, nil
}

// Close closes the connections.
func (db *DB) Close() error { return db.db.Close() }

func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
