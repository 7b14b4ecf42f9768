package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"go.uber.org/zap"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations is the schema's migration set (goose SQL files), the same for
// every backend, but for the one migration written in Go (see
// historyVersion): NewMigrationProvider adds it.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embedded directory exists
	}
	return sub
}

// Migrate brings the schema of db up to date. Extra options go to goose (the
// PostgreSQL backend adds a session locker, so replicas starting together
// migrate one at a time).
func Migrate(ctx context.Context, db *sql.DB, dialect goose.Dialect, logger *zap.Logger, opts ...goose.ProviderOption) error {
	p, err := NewMigrationProvider(db, dialect, append([]goose.ProviderOption{
		goose.WithLogger(gooseLogger{logger.Sugar()}),
	}, opts...)...)
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate the schema: %w", err)
	}
	for _, r := range results {
		logger.Info("schema migrated", zap.Int64("version", r.Source.Version),
			zap.String("file", r.Source.Path), zap.Duration("took", r.Duration))
	}
	return nil
}

// NewMigrationProvider returns a goose provider of the whole migration set
// (the SQL files and the Go migrations) for db in dialect.
func NewMigrationProvider(db *sql.DB, dialect goose.Dialect, opts ...goose.ProviderOption) (*goose.Provider, error) {
	goMigrations, err := goMigrations(dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	opts = append([]goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithGoMigrations(goMigrations...),
	}, opts...)
	p, err := goose.NewProvider(dialect, db, Migrations(), opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// gooseLogger routes goose's messages to zap. goose calls Fatalf only from
// its command-line helpers, never from a Provider; it is logged, not fatal.
type gooseLogger struct{ l *zap.SugaredLogger }

func (g gooseLogger) Printf(format string, v ...any) { g.l.Debugf(format, v...) }
func (g gooseLogger) Fatalf(format string, v ...any) { g.l.Errorf(format, v...) }
