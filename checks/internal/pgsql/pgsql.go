// Package pgsql is what the integrity and database checks share: a
// read-only connection to the team's PostgreSQL whose DSN never shows in
// an error, and errors said the way a person reads them ("refused:
// read-only transaction", "timed out after 5s").
package pgsql

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/redact"
)

// Open connects with dsn for a check named app. The session is read-only
// by default (default_transaction_read_only=on), carries the check's name
// as application_name (so it can tell its own backend in
// pg_stat_activity) and has statementTimeout as its statement_timeout.
// Errors never contain the DSN or its password.
func Open(ctx context.Context, dsn, app string, statementTimeout time.Duration) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("the DSN cannot be parsed: %s", Redact(err.Error(), dsn))
	}
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	cfg.RuntimeParams["application_name"] = "opsbot-" + app
	cfg.RuntimeParams["statement_timeout"] = strconvMillis(statementTimeout)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %s", Where(cfg), Redact(Describe(err, Timeouts{Statement: statementTimeout}), dsn, cfg.Password))
	}
	return conn, nil
}

// cleanupTimeout bounds a rollback or a close after the check's deadline.
const cleanupTimeout = 5 * time.Second

// Close closes conn even when ctx is done, within a few seconds: a server
// that stopped answering must not keep the check's goroutine forever.
func Close(ctx context.Context, conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_ = conn.Close(ctx)
}

// Rollback ends tx even when ctx is done, within a few seconds.
func Rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_ = tx.Rollback(ctx)
}

// Where names the server of cfg without credentials: "db.example:5432/shop".
func Where(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}

func strconvMillis(d time.Duration) string {
	return fmt.Sprintf("%d", d.Milliseconds())
}

var passwordParam = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`)

// Redact takes the DSN, the given secrets, a password=... parameter and
// anything redact finds out of s.
func Redact(s, dsn string, secrets ...string) string {
	if dsn != "" {
		s = strings.ReplaceAll(s, dsn, "[redacted:dsn]")
		if u, err := url.Parse(dsn); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok && p != "" {
				secrets = append(secrets, p, url.QueryEscape(p), url.PathEscape(p))
			}
		}
	}
	for _, p := range secrets {
		if p != "" {
			s = strings.ReplaceAll(s, p, "[redacted:password]")
		}
	}
	s = passwordParam.ReplaceAllString(s, "${1}[redacted:password]")
	return redact.Redactor{}.Text(s)
}

// PostgreSQL error codes (SQLSTATE) the checks explain.
const (
	codeReadOnly      = "25006" // read_only_sql_transaction
	codeQueryCanceled = "57014" // query_canceled (statement_timeout)
	codeLockNotAvail  = "55P03" // lock_not_available (lock_timeout)
)

// ErrRefused is how Describe says that PostgreSQL refused a write in the
// read-only transaction.
var ErrRefused = errors.New("refused: read-only transaction")

// EnvVarRE is the shape of an environment variable's name.
var EnvVarRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CheckSettings checks what the PostgreSQL checks' configs share: the name
// of the variable holding the DSN (when given) and the check's and each
// statement's timeouts (zero: the default). Errors name the key.
func CheckSettings(dsnEnv string, timeout, statementTimeout time.Duration) error {
	switch {
	case dsnEnv != "" && !EnvVarRE.MatchString(dsnEnv):
		return fmt.Errorf("dsnEnv: must be an environment variable's name (letters, digits, '_'), got %q", dsnEnv)
	case timeout < 0:
		return fmt.Errorf("timeout: must be positive, got %s", model.Duration(timeout))
	case statementTimeout < 0:
		return fmt.Errorf("statementTimeout: must be positive, got %s", model.Duration(statementTimeout))
	case statementTimeout > 0 && statementTimeout < time.Millisecond:
		return fmt.Errorf("statementTimeout: must be at least 1ms, got %s", statementTimeout)
	case timeout > 0 && statementTimeout > timeout:
		return fmt.Errorf("statementTimeout: must not exceed timeout (%s), got %s", model.Duration(timeout), model.Duration(statementTimeout))
	}
	return nil
}

// Timeouts are the statement_timeout and lock_timeout a session has (zero:
// not set), for Describe to name.
type Timeouts struct {
	Statement, Lock time.Duration
}

// Describe says what went wrong with a statement: the read-only refusal,
// the statement timeout, the lock timeout, else PostgreSQL's message (with
// its detail and hint) or the driver's.
func Describe(err error, t Timeouts) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case codeReadOnly:
			return ErrRefused.Error() + " (" + pg.Message + ")"
		case codeQueryCanceled:
			if strings.Contains(pg.Message, "statement timeout") {
				return fmt.Sprintf("timed out after %s (statementTimeout): %s", t.Statement, pg.Message)
			}
		case codeLockNotAvail:
			return fmt.Sprintf("waited more than %s for a lock, held by a migration or a long transaction: %s", t.Lock, pg.Message)
		}
		msg := pg.Message
		if pg.Detail != "" {
			msg += "; " + pg.Detail
		}
		if pg.Hint != "" {
			msg += " (hint: " + pg.Hint + ")"
		}
		return fmt.Sprintf("%s (SQLSTATE %s)", msg, pg.Code)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out: " + err.Error()
	}
	return err.Error()
}

// Refused reports whether err is PostgreSQL refusing a write in a
// read-only transaction.
func Refused(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == codeReadOnly
}

// SingleStatement rejects SQL with a ';' anywhere but at its end (after
// which only spaces may follow). Its answer is the SQL without that
// trailing ';'. It does not parse SQL: a ';' inside a string literal is
// rejected too, which a query can always avoid (chr(59)). The read-only
// transaction, not this, is what keeps a query from writing.
func SingleStatement(sql string) (string, error) {
	s := strings.TrimSpace(sql)
	s = strings.TrimSpace(strings.TrimSuffix(s, ";"))
	if s == "" {
		return "", errors.New("must not be empty")
	}
	if i := strings.IndexByte(s, ';'); i >= 0 {
		return "", fmt.Errorf("must be one statement: a ';' may only end it, found one at offset %d", i)
	}
	return s, nil
}
