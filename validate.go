package opsbot

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"fmt"
)

// Maximum lengths shared by the domain packages, in characters (runes).
const (
	MaxIDLen  = 255  // environment, Slack user/channel ids, thread ts, keys
	MaxURLLen = 2000 // link, ticket, dashboard
)

// ActorBot is recorded on timelines for what opsbot does by itself
// (linking a thread, escalating, posting an announcement, the status
// page); Slack user ids are recorded for what people do.
const ActorBot = "opsbot"

// Times are stored as int64 Unix nanoseconds; valid times stay well inside
// that range.
var (
	minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Validator collects field problems into a ValidationError, so that every
// domain package reports problems the same way.
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

// HTTPURL checks an optional http(s) URL.
func (v *Validator) HTTPURL(field, s string) {
	if s == "" {
		return
	}
	if n := utf8.RuneCountInString(s); n > MaxURLLen {
		v.Add(field, "must be at most %d characters, got %d", MaxURLLen, n)
		return
	}
	if !IsHTTPURL(s) {
		v.Add(field, "must be an http(s) URL")
	}
}

// IsHTTPURL reports whether s is an absolute http(s) URL without white
// space.
func IsHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		!strings.ContainsAny(s, " \t\r\n")
}

// Time checks a required time (within the years 2000 to 2199). It reports
// whether t is valid.
func (v *Validator) Time(field string, t time.Time) bool {
	switch {
	case t.IsZero():
		v.Add(field, "required")
	case t.Before(minTime) || !t.Before(maxTime):
		v.Add(field, "must be between years 2000 and 2199, got %s", t.UTC().Format(time.RFC3339))
	default:
		return true
	}
	return false
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

// Truncate shortens s to at most n characters (runes), the last one an
// ellipsis, without white space before it: for titles and fields shown or
// stored within a limit.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	r := []rune(s)
	return strings.TrimRightFunc(string(r[:n-1]), func(r rune) bool { return r == ' ' || r == '\n' }) + "…"
}

// ValidateIdempotencyKey checks a key given to a store's write. The empty
// key is allowed and means "not idempotent".
func ValidateIdempotencyKey(key string) error {
	v := Validator{What: "idempotency key"}
	v.Text("key", key, MaxIDLen)
	return v.Err()
}
