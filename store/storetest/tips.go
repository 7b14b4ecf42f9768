package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/triage"
)

// tipTests are the cases of triage.TipStore.
var tipTests = []struct {
	name string
	fn   func(t *testing.T, o Opener)
}{
	{"Tips", testTips},
	{"TipsInvalid", testTipsInvalid},
	{"TipsLimit", testTipsLimit},
}

func newTip(pattern, text string) triage.Tip {
	return triage.Tip{Pattern: pattern, Text: text, Author: "U0ALICE", CreatedAt: t0}
}

func testTips(t *testing.T, o Opener) {
	s := open(t, o)
	ctx := context.Background()
	heap, err := s.AddTip(ctx, newTip(" pods/shop/Deployment/api/*/OOMKilled ", "raise the heap, see OPS-88"), "tip:1")
	if err != nil {
		t.Fatal(err)
	}
	want := triage.Tip{ID: 1, Pattern: "pods/shop/Deployment/api/*/OOMKilled", Text: "raise the heap, see OPS-88",
		Author: "U0ALICE", CreatedAt: t0}
	if !sameTip(heap, want) {
		t.Errorf("AddTip =\n%+v\nwant\n%+v", heap, want)
	}
	again, err := s.AddTip(ctx, newTip("other", "other"), "tip:1")
	if err != nil || !sameTip(again, want) {
		t.Errorf("AddTip with the same key = %+v, %v; want the first tip", again, err)
	}
	logs, err := s.AddTip(ctx, newTip("logs/shop", "look at the upstream first"), "tip:2")
	if err != nil || logs.ID != 2 {
		t.Fatalf("second tip = %+v, %v", logs, err)
	}
	if got, err := s.Tips(ctx); err != nil || len(got) != 2 || !sameTip(got[0], want) || !sameTip(got[1], logs) {
		t.Errorf("Tips = %+v, %v; want both, oldest first", got, err)
	}

	removed, err := s.RemoveTip(ctx, 1, "U0BOB", at(10), "untip:1")
	if err != nil || removed.RemovedBy != "U0BOB" || !removed.RemovedAt.Equal(at(10)) || removed.Text != want.Text {
		t.Fatalf("RemoveTip = %+v, %v", removed, err)
	}
	if again, err := s.RemoveTip(ctx, 1, "U0CAROL", at(20), "untip:1"); err != nil || !sameTip(again, removed) {
		t.Errorf("RemoveTip with the same key = %+v, %v; want it as removed", again, err)
	}
	for _, id := range []int64{1, 99} {
		if _, err := s.RemoveTip(ctx, id, "U0CAROL", at(20), fmt.Sprintf("untip:%d:again", id)); !errors.Is(err, triage.ErrTipNotFound) ||
			!errors.Is(err, opsbot.ErrNotFound) {
			t.Errorf("RemoveTip(%d) = %v; want ErrTipNotFound", id, err)
		}
	}
	if _, err := s.RemoveTip(ctx, 2, "U0BOB", at(10), "tip:2"); !errors.Is(err, opsbot.ErrConflict) {
		t.Errorf("RemoveTip with the key of an addition = %v; want a conflict", err)
	}
	if got, err := s.Tips(ctx); err != nil || len(got) != 1 || !sameTip(got[0], logs) {
		t.Errorf("Tips after removing #1 = %+v, %v; want #2 only", got, err)
	}

	// The timeline says who did what, across a restart.
	s.Close()
	s = open(t, o)
	tl, err := s.TipTimeline(ctx, 1)
	if err != nil || len(tl) != 2 {
		t.Fatalf("TipTimeline = %+v, %v", tl, err)
	}
	if e := tl[0]; e.Kind != triage.KindTipAdded || e.Actor != "U0ALICE" || !e.At.Equal(t0) || e.Pattern != want.Pattern || e.IdempotencyKey != "tip:1" {
		t.Errorf("added entry = %+v", e)
	}
	if e := tl[1]; e.Kind != triage.KindTipRemoved || e.Actor != "U0BOB" || !e.At.Equal(at(10)) || e.Text != want.Text {
		t.Errorf("removed entry = %+v", e)
	}
	if _, err := s.TipTimeline(ctx, 99); !errors.Is(err, triage.ErrTipNotFound) {
		t.Errorf("TipTimeline(99) = %v", err)
	}
}

func testTipsInvalid(t *testing.T, o Opener) {
	s := open(t, o)
	ctx := context.Background()
	for name, tip := range map[string]triage.Tip{
		"no pattern":       newTip("  ", "text"),
		"empty segment":    newTip("pods//api", "text"),
		"trailing slash":   newTip("pods/shop/", "text"),
		"space in pattern": newTip("manual/checkout slow", "text"),
		"long pattern":     newTip(strings.Repeat("p", triage.MaxTipPatternLen+1), "text"),
		"no text":          newTip("pods", " "),
		"long text":        newTip("pods", strings.Repeat("x", triage.MaxTipTextLen+1)),
		"bidi in text":     newTip("pods", "raise the heap \u202e88-SPO"),
		"bidi in pattern":  newTip("pods/\u2066x", "text"),
		"no author":        {Pattern: "pods", Text: "text", CreatedAt: t0},
		"no time":          {Pattern: "pods", Text: "text", Author: "U0ALICE"},
	} {
		if got, err := s.AddTip(ctx, tip, ""); !errors.Is(err, opsbot.ErrInvalid) {
			t.Errorf("%s: AddTip = %+v, %v; want a validation error", name, got, err)
		}
	}
	if _, err := s.RemoveTip(ctx, 1, "", t0, ""); !errors.Is(err, opsbot.ErrInvalid) {
		t.Errorf("RemoveTip by nobody = %v; want a validation error", err)
	}
	if got, err := s.Tips(ctx); err != nil || len(got) != 0 {
		t.Errorf("invalid tips were recorded: %+v, %v", got, err)
	}
}

func testTipsLimit(t *testing.T, o Opener) {
	s := open(t, o)
	ctx := context.Background()
	for i := range triage.MaxTips {
		if _, err := s.AddTip(ctx, newTip(fmt.Sprintf("pods/%d", i), "text"), ""); err != nil {
			t.Fatalf("tip %d: %v", i, err)
		}
	}
	if _, err := s.AddTip(ctx, newTip("pods/one-more", "text"), ""); !errors.Is(err, triage.ErrTooManyTips) {
		t.Fatalf("tip %d = %v; want ErrTooManyTips", triage.MaxTips+1, err)
	}
	if _, err := s.RemoveTip(ctx, 1, "U0BOB", t0, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddTip(ctx, newTip("pods/one-more", "text"), ""); err != nil {
		t.Errorf("after removing one: %v", err)
	}
}

// sameTip compares tips, their times by instant.
func sameTip(a, b triage.Tip) bool {
	return a.ID == b.ID && a.Pattern == b.Pattern && a.Text == b.Text && a.Author == b.Author &&
		a.CreatedAt.Equal(b.CreatedAt) && a.RemovedBy == b.RemovedBy && a.RemovedAt.Equal(b.RemovedAt)
}
