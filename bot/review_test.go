package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"go.uber.org/zap"
)

func TestViewValidationDeadlineCountsFromArrival(t *testing.T) {
	b := &Bot{log: zap.NewNop(), opts: Options{Templates: testTexts(t).set}}
	ran := false
	route := viewRoute{name: "v", busyBlock: "conclusion", h: func(ctx context.Context, r *request) (any, handlerFunc, error) {
		ran = true
		return nil, func(context.Context, *request) error { return nil }, nil
	}}
	r := &request{kind: "view"}

	// Arrived long ago (waited in a queue): busy, no validation, no work.
	ack, then, err := b.validateView(context.Background(), route, r, time.Now().Add(-3*time.Second))
	if err != nil || then != nil || ran {
		t.Fatalf("late: then %v, err %v, ran %v", then != nil, err, ran)
	}
	resp, ok := ack.(*slack.ViewSubmissionResponse)
	if !ok || resp.ResponseAction != slack.RAErrors || resp.Errors["conclusion"] != b.busy() {
		t.Fatalf("late ack = %#v, want a busy error on conclusion", ack)
	}

	// Validation that runs past the deadline: busy too.
	slow := viewRoute{name: "v", busyBlock: "conclusion", h: func(ctx context.Context, r *request) (any, handlerFunc, error) {
		<-ctx.Done()
		return nil, func(context.Context, *request) error { return nil }, ctx.Err()
	}}
	ack, then, err = b.validateView(context.Background(), slow, r, time.Now().Add(-viewAckWithin+time.Millisecond))
	if err != nil || then != nil {
		t.Fatalf("slow: then %v, err %v", then != nil, err)
	}
	if resp, ok := ack.(*slack.ViewSubmissionResponse); !ok || resp.Errors["conclusion"] != b.busy() {
		t.Fatalf("slow ack = %#v", ack)
	}

	// On time: the handler's answer.
	ack, then, err = b.validateView(context.Background(), route, r, time.Now())
	if err != nil || then == nil || ack != nil || !ran {
		t.Fatalf("on time: ack %v, then %v, err %v", ack, then != nil, err)
	}
}

func TestPackSectionsStaysWithinLimits(t *testing.T) {
	blocksJSON := func(bs []slack.Block) int {
		n := 2
		for _, b := range bs {
			n += size(b)
		}
		return n
	}
	long := strings.Repeat("a", 2000)
	for _, tt := range []struct {
		name      string
		lines     []string
		maxBlocks int
	}{
		{"one line a section, few blocks", repeat(long, 10), 5},
		{"many long lines", repeat(strings.Repeat("&lt;", 700), 200), maxMessageBlocks},
		{"many short lines", repeat("• #12 something looks wrong", 3000), maxMessageBlocks},
	} {
		bs := packSections(testTexts(t), tt.lines, tt.maxBlocks)
		if len(bs) > tt.maxBlocks {
			t.Errorf("%s: %d blocks, at most %d", tt.name, len(bs), tt.maxBlocks)
		}
		if n := blocksJSON(bs); n > blocksBudget {
			t.Errorf("%s: %d bytes of blocks, at most %d", tt.name, n, blocksBudget)
		}
		last, _ := json.Marshal(bs[len(bs)-1])
		if !strings.Contains(string(last), "more") {
			t.Errorf("%s: no more line at the end: %s", tt.name, last)
		}
	}
	if bs := packSections(testTexts(t), []string{"a", "b"}, maxMessageBlocks); len(bs) != 1 {
		t.Errorf("two short lines: %d blocks", len(bs))
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestPermanentUnwrapsAPermanentError(t *testing.T) {
	pe := &PermanentError{Code: "missing_scope"}
	for _, err := range []error{pe, fmt.Errorf("interrupted: %w", pe)} {
		if got := permanent(err); got != pe {
			t.Errorf("permanent(%v) = %v, want the PermanentError itself", err, got)
		}
	}
	if got := permanent(slack.SlackErrorResponse{Err: "invalid_auth"}); got == nil || got.Code != "invalid_auth" {
		t.Errorf("permanent(invalid_auth) = %v", got)
	}
	if got := permanent(errors.New("context canceled")); got != nil {
		t.Errorf("permanent(context canceled) = %v", got)
	}
}
