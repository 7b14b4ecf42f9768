package storetest

import (
	"context"
	"database/sql"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/opsbot/opsbot/store"
)

// CheckMigrations checks, on db (migrated by the backend's Open), that the
// schema is at the latest version and that every migration can be rolled
// back and applied again in this dialect.
func CheckMigrations(t *testing.T, db *sql.DB, dialect goose.Dialect) {
	t.Helper()
	ctx := context.Background()
	p, err := store.NewMigrationProvider(db, dialect)
	if err != nil {
		t.Fatal(err)
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil || current != target || current < 1 {
		t.Fatalf("schema version %d, latest %d, %v", current, target, err)
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("roll every migration back: %v", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM anomalies").Scan(&n); err == nil {
		t.Error("the anomalies table is still there after rolling back")
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("apply the migrations again: %v", err)
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM anomalies").Scan(&n); err != nil || n != 0 {
		t.Errorf("after migrating again: %d anomalies, %v", n, err)
	}
}
