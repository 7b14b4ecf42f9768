package statuspage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opsbot/opsbot/internal/httpx"
)

// APIError is an answer of Statuspage with an error status (4xx, 5xx).
type APIError struct {
	// Op says what the client was doing ("create incident", "list
	// unresolved incidents"...).
	Op string
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Message is the API's error message ({"error": "..."}), or the start
	// of the body when it has none, truncated.
	Message string
}

// Error implements error: "create incident: HTTP 422 Unprocessable Entity:
// name can't be blank".
func (e *APIError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden {
		s += " (check the API key and its access to the page)"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Retryable reports whether the same request may succeed later: rate
// limits (420, 429), 408 and server errors (5xx). 401, 403, 404 and 422
// will not change by themselves.
func (e *APIError) Retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == statusEnhanceYourCalm ||
		e.StatusCode == http.StatusRequestTimeout || e.StatusCode >= 500
}

// statusEnhanceYourCalm is the 420 Statuspage documents, besides 429, for
// a rate-limited request.
const statusEnhanceYourCalm = 420

// RateLimitError is a request refused by Statuspage's rate limit (HTTP 429
// or 420). The client has already honoured Retry-After once when the
// deadline allowed it; RetryAfter says how long the caller should wait
// before trying again.
type RateLimitError struct {
	// RetryAfter is the server's Retry-After (1s when it sent none).
	RetryAfter time.Duration
	// Err is the refused answer.
	Err *APIError
}

// Error implements error.
func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s (rate limited: retry after %s)", e.Err.Error(), e.RetryAfter)
}

// Unwrap returns the *APIError.
func (e *RateLimitError) Unwrap() error { return e.Err }

// requestError is a request that got no usable answer: a transport
// failure (refused, reset, timed out), a cancelled context, or an answer
// that could not be read. Error() is short and specific; the underlying
// error (with the URL, never the key) is kept for errors.Is/As, and so is
// the context's error when the context ended (net/http reports only the
// context's cause, so errors.Is(err, context.DeadlineExceeded) would fail
// without it).
type requestError struct {
	op        string
	reason    string
	retryable bool
	err       error
	ctxErr    error
}

func (e *requestError) Error() string { return e.op + ": " + e.reason }

func (e *requestError) Unwrap() []error {
	if e.ctxErr != nil {
		return []error{e.err, e.ctxErr}
	}
	return []error{e.err}
}

// IsRetryable reports whether err (from any method of Client) is worth
// retrying later with the same arguments: rate limits (see
// *RateLimitError), server errors (5xx), timeouts and connection
// failures. It is false for authentication and permission errors, unknown
// pages or incidents, validation errors (401, 403, 404, 422), invalid
// arguments, and calls whose context the caller cancelled.
//
// Retrying CreateIncident is safe (it finds the incident a lost answer
// created); retrying UpdateIncident after an ambiguous failure may post the
// update twice.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return true
	}
	var re *requestError
	if errors.As(err, &re) {
		return re.retryable
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Retryable()
	}
	return false
}

// newRequestError classifies a failed request (or wait) under ctx.
func newRequestError(ctx context.Context, op string, err error, redact func(string) string) error {
	kind, reason := httpx.Classify(ctx, err)
	return &requestError{
		op:        op,
		reason:    redact(reason),
		retryable: kind != httpx.KindCanceled && kind != httpx.KindTLS,
		err:       err,
		ctxErr:    ctx.Err(),
	}
}

// apiMessage extracts the error message of an error answer: Statuspage
// answers {"error": "..."} (sometimes a list of messages) and its OpenAPI
// description documents {"message": "..."}; other bodies (a proxy's HTML
// page) are cut to a short snippet.
func apiMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Errors  json.RawMessage `json:"errors"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &v) == nil {
		for _, raw := range []json.RawMessage{v.Error, v.Errors} {
			if s := flattenMessage(raw); s != "" {
				return httpx.Truncate(s, 300)
			}
		}
		if v.Message != "" {
			return httpx.Truncate(v.Message, 300)
		}
	}
	return httpx.Snippet(body, 200)
}

// flattenMessage turns a string, a list of strings or an object of lists
// ({"name": ["can't be blank"]}) into one line.
func flattenMessage(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return strings.Join(list, "; ")
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if m := flattenMessage(obj[k]); m != "" {
				parts = append(parts, k+" "+m)
			}
		}
		return strings.Join(parts, "; ")
	}
	return ""
}

// parseRetryAfter reads a Retry-After header: delay-seconds (Statuspage's
// form; fractions such as "0.5" are accepted too, which the fake uses) or
// an HTTP date. A missing or unreadable header means one second, the
// documented pace.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return time.Second
	}
	if secs, err := strconv.ParseFloat(h, 64); err == nil {
		if secs <= 0 || secs != secs { // negative or NaN
			return 0
		}
		if secs > 24*3600 {
			secs = 24 * 3600
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0)
	}
	return time.Second
}
