package opsbot_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/opsbot/opsbot"
)

func TestNotRecordedMarksTheStoresOwnFailures(t *testing.T) {
	down := errors.New("dial tcp 127.0.0.1:5432: connection refused")
	for _, err := range []error{down, context.Canceled, fmt.Errorf("commit: %w", context.DeadlineExceeded)} {
		got := opsbot.NotRecorded(err)
		if !errors.Is(got, opsbot.ErrNotRecorded) || !errors.Is(got, err) {
			t.Errorf("NotRecorded(%v) = %v, want it wrapped with ErrNotRecorded", err, got)
		}
		if again := opsbot.NotRecorded(got); again != got {
			t.Errorf("NotRecorded wrapped twice: %v", again)
		}
	}
	// A write refused for its input was not lost: it is not marked.
	for _, err := range []error{nil, opsbot.ErrNotFound, fmt.Errorf("decide: %w", opsbot.ErrConflict),
		&opsbot.ValidationError{What: "anomaly", Problems: []opsbot.FieldError{{Field: "title", Problem: "required"}}}} {
		if got := opsbot.NotRecorded(err); got != err || errors.Is(got, opsbot.ErrNotRecorded) {
			t.Errorf("NotRecorded(%v) = %v, want it as it is", err, got)
		}
	}
}
