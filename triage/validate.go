package triage

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Maximum lengths, in characters (runes). Free-text limits match Slack's
// plain-text input limit (3000) so that anything typed in a modal fits.
const (
	MaxIDLen          = 255  // environment, Slack user/channel ids, thread ts
	MaxFingerprintLen = 1000 // checks.Fingerprint output
	MaxTitleLen       = 500
	MaxTextLen        = 3000 // detail, conclusion, five whys, follow-up text
	MaxURLLen         = 2000 // link, ticket, dashboard
)

// ErrInvalid is matched (errors.Is) by every *ValidationError.
var ErrInvalid = errors.New("invalid input")

// FieldError is one problem with one field.
type FieldError struct {
	// Field is the field's name in camelCase ("conclusion", "usersAffected"),
	// which the bot can map to the modal's input block.
	Field string
	// Problem says what is wrong, for a person: "required",
	// "must be an http(s) URL".
	Problem string
}

// String formats the problem as "field: problem".
func (f FieldError) String() string { return f.Field + ": " + f.Problem }

// ValidationError lists every problem found in an input. Stores return it
// before writing anything.
type ValidationError struct {
	// What is being validated: "decision", "anomaly", "sighting"...
	What     string
	Problems []FieldError
}

// Error lists every problem: "invalid decision: conclusion: required; ...".
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return fmt.Sprintf("invalid %s: %s", e.What, strings.Join(parts, "; "))
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Problem returns the problem reported for field, or "".
func (e *ValidationError) Problem(field string) string {
	for _, p := range e.Problems {
		if p.Field == field {
			return p.Problem
		}
	}
	return ""
}

// Validator collects field problems into a ValidationError; incident uses
// it too, so both packages report problems the same way.
type Validator struct {
	// What is validated ("decision", "incident"), for the error message.
	What     string
	problems []FieldError
}

// Add records a problem with field.
func (v *Validator) Add(field, format string, args ...any) {
	v.problems = append(v.problems, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
}

// Err is the ValidationError of the problems recorded, or nil.
func (v *Validator) Err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{What: v.What, Problems: v.problems}
}

// Text checks an optional string's length and encoding.
func (v *Validator) Text(field, s string, max int) {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		v.Add(field, "must be UTF-8 text without NUL characters")
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		v.Add(field, "must be at most %d characters, got %d", max, n)
	}
}

// Required checks a mandatory string.
func (v *Validator) Required(field, s string, max int) {
	if strings.TrimSpace(s) == "" {
		v.Add(field, "required")
		return
	}
	v.Text(field, s, max)
}

// httpURL checks an optional http(s) URL.
func (v *Validator) httpURL(field, s string) {
	if s == "" {
		return
	}
	if n := utf8.RuneCountInString(s); n > MaxURLLen {
		v.Add(field, "must be at most %d characters, got %d", MaxURLLen, n)
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		strings.ContainsAny(s, " \t\r\n") {
		v.Add(field, "must be an http(s) URL")
	}
}

// Times are stored as int64 Unix nanoseconds; keep them well inside that
// range.
var (
	minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

func (v *Validator) time(field string, t time.Time) {
	switch {
	case t.IsZero():
		v.Add(field, "required")
	case t.Before(minTime) || !t.Before(maxTime):
		v.Add(field, "must be between years 2000 and 2199, got %s", t.UTC().Format(time.RFC3339))
	}
}

// CleanText makes s storable by every backend: invalid UTF-8 sequences and
// NUL characters become U+FFFD, and surrounding white space is trimmed.
// Untrusted text (log lines, alert annotations) keeps everything else
// verbatim; escaping for Slack happens when it is rendered.
func CleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.ContainsRune(s, 0) {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return strings.TrimSpace(s)
}

// ValidateIdempotencyKey checks a key given to a Store method. The empty key
// is allowed and means "not idempotent".
func ValidateIdempotencyKey(key string) error {
	v := Validator{What: "idempotency key"}
	v.Text("key", key, MaxIDLen)
	return v.Err()
}
