package opsbot

import (
	"errors"
	"fmt"
	"strings"
)

// Errors returned by the domain services and their stores, matched with
// errors.Is. The domain packages wrap ErrNotFound with what was not found
// (triage.ErrNotFound: "anomaly not found").
var (
	// ErrInvalid is matched by every *ValidationError.
	ErrInvalid = errors.New("invalid input")
	// ErrNotFound: no such record.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the write would break a rule that depends on other
	// writes: an idempotency key already used for another operation or
	// record, reopening an anomaly while another one with the same
	// fingerprint is open, updating a resolved incident, a status page
	// event that does not follow.
	ErrConflict = errors.New("conflict")
	// ErrNotRecorded: a write that matters failed for the store's sake
	// (the database is down or did not answer in time, a statement
	// failed), not for its input. Nothing of it was recorded, and nothing
	// was left posted in Slack for it; the same call may succeed later.
	// Services wrap such failures with NotRecorded, so that a front end
	// can tell the user so.
	ErrNotRecorded = errors.New("not recorded")
)

// NotRecorded wraps err, a store's failure to write, with ErrNotRecorded,
// unless it is about the input (ErrInvalid, ErrNotFound, ErrConflict: the
// write was refused, not lost) or nil.
func NotRecorded(err error) error {
	if err == nil || errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) ||
		errors.Is(err, ErrConflict) || errors.Is(err, ErrNotRecorded) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrNotRecorded, err)
}

// FieldError is one problem with one field.
type FieldError struct {
	// Field is the field's name in camelCase ("conclusion", "userImpact"),
	// which the Slack adapter maps to the modal's input block.
	Field string
	// Problem says what is wrong, for a person: "required",
	// "must be an http(s) URL".
	Problem string
}

// String formats the problem as "field: problem".
func (f FieldError) String() string { return f.Field + ": " + f.Problem }

// ValidationError lists every problem found in an input. Services and
// stores return it before writing anything.
type ValidationError struct {
	// What is being validated: "decision", "anomaly", "incident"...
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
