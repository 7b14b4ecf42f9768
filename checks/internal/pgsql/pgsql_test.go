package pgsql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestRedact(t *testing.T) {
	for _, tt := range []struct{ name, dsn, in string }{
		{"url", "postgres://ops:p%40ss-word@db:5432/shop", "cannot parse `postgres://ops:p%40ss-word@db:5432/shop`: p@ss-word"},
		{"key=value", "host=db user=ops password='p@ss word' dbname=shop", "dial: host=db user=ops password='p@ss word' dbname=shop; password=hunter2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Redact(tt.in, tt.dsn)
			for _, secret := range []string{"p@ss", "p%40ss", "hunter2"} {
				if strings.Contains(got, secret) {
					t.Errorf("Redact(%q) = %q shows %q", tt.in, got, secret)
				}
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	st := Timeouts{Statement: 5 * time.Second, Lock: 2500 * time.Millisecond}
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&pgconn.PgError{Code: "25006", Message: "cannot execute INSERT in a read-only transaction"},
			"refused: read-only transaction (cannot execute INSERT in a read-only transaction)"},
		{&pgconn.PgError{Code: "57014", Message: "canceling statement due to statement timeout"},
			"timed out after 5s (statementTimeout): canceling statement due to statement timeout"},
		{fmt.Errorf("query: %w", &pgconn.PgError{Code: "42703", Message: `column q.id does not exist`, Hint: `Perhaps you meant "q.ref".`}),
			`column q.id does not exist (hint: Perhaps you meant "q.ref".) (SQLSTATE 42703)`},
		{&pgconn.PgError{Code: "55P03", Message: "canceling statement due to lock timeout"},
			"waited more than 2.5s for a lock, held by a migration or a long transaction: canceling statement due to lock timeout"},
		{context.DeadlineExceeded, "timed out: context deadline exceeded"},
		{errors.New("conn closed"), "conn closed"},
	} {
		if got := Describe(tt.err, st); got != tt.want {
			t.Errorf("Describe(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestSingleStatement(t *testing.T) {
	for _, tt := range []struct{ in, want, err string }{
		{"SELECT id FROM t", "SELECT id FROM t", ""},
		{"  SELECT id FROM t ;\n ", "SELECT id FROM t", ""},
		{"SELECT 1; SELECT 2", "", "must be one statement: a ';' may only end it, found one at offset 8"},
		{"SELECT 1;;", "", "found one at offset 8"},
		{";", "", "must not be empty"},
	} {
		got, err := SingleStatement(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("SingleStatement(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("SingleStatement(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}
