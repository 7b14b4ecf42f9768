package triage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
)

// Tip limits.
const (
	// MaxTipPatternLen bounds a tip's pattern (a fingerprint's length).
	MaxTipPatternLen = MaxFingerprintLen
	// MaxTipTextLen bounds a tip's text, in characters: a line or two.
	MaxTipTextLen = 500
	// MaxTips bounds the tips in force at once: every report matches its
	// findings against all of them.
	MaxTips = 500
	// MaxTipsShown bounds the tips shown under one finding.
	MaxTipsShown = 3
)

// ErrTipNotFound: no tip in force has that id.
var ErrTipNotFound = fmt.Errorf("tip %w", opsbot.ErrNotFound)

// ErrTooManyTips: MaxTips are in force; remove one first.
var ErrTooManyTips = fmt.Errorf("%w: there are %d tips already: remove one first", opsbot.ErrConflict, MaxTips)

// Tip is a runbook tip attached to a kind of finding: the findings whose
// fingerprints its Pattern matches (TipMatches) show its Text, in the
// checklist report and in new anomaly threads.
type Tip struct {
	// ID is assigned by the store: small increasing numbers.
	ID int64
	// Pattern is a fingerprint or a prefix of one, "*" standing for any
	// one segment: "pods/shop/Deployment/api/*/OOMKilled".
	Pattern string
	// Text is the tip: "raise the heap, see TICKET-88".
	Text string
	// Author is the Slack user id of who added it; CreatedAt when.
	Author    string
	CreatedAt time.Time
	// RemovedBy and RemovedAt say who removed it and when; empty and
	// zero while it is in force.
	RemovedBy string
	RemovedAt time.Time
}

// Normalized returns the caller-supplied fields of t as a store keeps
// them: text cleaned (opsbot.CleanText), the pattern trimmed, CreatedAt in
// UTC; ID and the removal are reset (stores set them).
func (t Tip) Normalized() Tip {
	return Tip{
		Pattern: strings.TrimSpace(opsbot.CleanText(t.Pattern)), Text: opsbot.CleanText(t.Text),
		Author: opsbot.CleanText(t.Author), CreatedAt: t.CreatedAt.UTC(),
	}
}

// Validate checks a tip given to TipStore.AddTip: the pattern
// (ValidateTipPattern), a text of 1 to MaxTipTextLen characters without
// characters that change the direction of text, the author and the time.
func (t Tip) Validate() error {
	v := opsbot.Validator{What: "tip"}
	if err := ValidateTipPattern(t.Pattern); err != nil {
		v.Add("pattern", "%s", err)
	}
	v.Required("text", t.Text, MaxTipTextLen)
	if r, ok := directionControl(t.Text); ok {
		v.Add("text", "must not contain U+%04X, which changes the direction of text", r)
	}
	v.Required("author", t.Author, opsbot.MaxIDLen)
	v.Time("createdAt", t.CreatedAt)
	return v.Err()
}

// ValidateTipPattern checks a pattern: 1 to MaxTipPatternLen characters,
// one word (no spaces), segments separated by "/" none of them empty, no
// character that changes the direction of text.
func ValidateTipPattern(p string) error {
	switch {
	case p == "":
		return errors.New("required: a fingerprint, or a prefix of one, with * for any one segment")
	case utf8.RuneCountInString(p) > MaxTipPatternLen:
		return fmt.Errorf("at most %d characters, got %d", MaxTipPatternLen, utf8.RuneCountInString(p))
	case !utf8.ValidString(p) || strings.IndexFunc(p, unicode.IsSpace) >= 0 || strings.IndexFunc(p, unicode.IsControl) >= 0:
		return fmt.Errorf("must be one word without spaces or control characters, got %q", p)
	}
	if r, ok := directionControl(p); ok {
		return fmt.Errorf("must not contain U+%04X, which changes the direction of text", r)
	}
	if slices.Contains(strings.Split(p, "/"), "") {
		return fmt.Errorf("has an empty segment (\"//\", or a \"/\" at an end): %q", p)
	}
	return nil
}

// directionControl returns the first character of s that changes the
// direction of text (Unicode's Bidi_Control: the embeddings, overrides,
// isolates and marks that make text read differently from what it says).
func directionControl(s string) (rune, bool) {
	for _, r := range s {
		if unicode.Is(unicode.Bidi_Control, r) {
			return r, true
		}
	}
	return 0, false
}

// TipMatches reports whether pattern matches fingerprint. Both are split
// into segments at "/"; the pattern matches when it has no more segments
// than the fingerprint and each of its segments is "*" (any one segment)
// or equal to the fingerprint's segment at the same place (case
// matters). So a whole fingerprint matches itself, and a shorter pattern
// is a prefix by whole segments: "pods/shop" matches
// "pods/shop/Deployment/api/api/OOMKilled" but "pods/sh" does not, and
// "pods/*/Deployment/api" matches the api Deployment in every namespace.
func TipMatches(pattern, fingerprint string) bool {
	ps, fs := strings.Split(pattern, "/"), strings.Split(fingerprint, "/")
	if pattern == "" || len(ps) > len(fs) {
		return false
	}
	for i, p := range ps {
		if p != "*" && p != fs[i] {
			return false
		}
	}
	return true
}

// MatchTips returns the tips of tips that match fingerprint, at most
// MaxTipsShown, the most specific first (more segments, then fewer "*"),
// then the newest.
func MatchTips(tips []Tip, fingerprint string) []Tip {
	var out []Tip
	for _, t := range tips {
		if t.RemovedAt.IsZero() && TipMatches(t.Pattern, fingerprint) {
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, func(a, b Tip) int {
		return cmp.Or(
			cmp.Compare(strings.Count(b.Pattern, "/"), strings.Count(a.Pattern, "/")),
			cmp.Compare(strings.Count(a.Pattern, "*"), strings.Count(b.Pattern, "*")),
			cmp.Compare(b.ID, a.ID))
	})
	if len(out) > MaxTipsShown {
		out = out[:MaxTipsShown]
	}
	return out
}

// TipStore keeps the tips. store.DB implements it (migration 00011), on
// SQLite and PostgreSQL alike; store/storetest checks it.
//
// Writes are one transaction each with an entry on the tip's append-only
// timeline (tip_added, tip_removed), idempotent on key as Store's writes
// are: a repeated key changes nothing more and returns the tip as it is.
type TipStore interface {
	// AddTip records t (validated first: Tip.Validate) and returns it with
	// its ID. ErrTooManyTips when MaxTips are in force.
	AddTip(ctx context.Context, t Tip, key string) (Tip, error)
	// RemoveTip takes tip id out of force, by by at at. ErrTipNotFound
	// when no tip in force has that id.
	RemoveTip(ctx context.Context, id int64, by string, at time.Time, key string) (Tip, error)
	// Tips returns the tips in force, oldest first.
	Tips(ctx context.Context) ([]Tip, error)
}

// Tip timeline kinds.
const (
	KindTipAdded   Kind = "tip_added"
	KindTipRemoved Kind = "tip_removed"
)

// TipEntry is one line of a tip's append-only timeline: who added or
// removed it, when, and the tip as it was.
type TipEntry struct {
	TipID, Seq     int64
	At             time.Time
	Actor          string
	Kind           Kind
	Pattern, Text  string
	IdempotencyKey string
}

// Memory is what the rotation knows of an anomaly's kind of finding, shown
// on its root message: the last decision on its fingerprint before it,
// and the tips that match it.
type Memory struct {
	// Last is nil when the fingerprint was never decided before.
	Last *History
	Tips []Tip
}

// AddTip records a tip (TipStore.AddTip, idempotent on key), its pattern
// and text redacted first (ServiceOptions.Redactor): a fingerprint is
// redacted before it is stored, so a pattern is too.
func (s *Service) AddTip(ctx context.Context, t Tip, key string) (Tip, error) {
	t.Pattern, t.Text = s.redact.Text(t.Pattern), s.redact.Text(t.Text)
	return s.store.AddTip(ctx, t, opKey("tip", key))
}

// RemoveTip takes tip id out of force (TipStore.RemoveTip, idempotent on
// key), by user by, now.
func (s *Service) RemoveTip(ctx context.Context, id int64, by, key string) (Tip, error) {
	return s.store.RemoveTip(ctx, id, by, s.now(), opKey("untip", key))
}

// Tips returns the tips in force, oldest first.
func (s *Service) Tips(ctx context.Context) ([]Tip, error) { return s.store.Tips(ctx) }

// memory is what anomaly a's root message shows beside it: the last
// decision on its fingerprint before it, and its tips. What cannot be
// read is left out (and logged): it is a courtesy, never a reason not to
// post the root message.
func (s *Service) memory(ctx context.Context, a Anomaly) Memory {
	m := Memory{Last: s.lastTime(ctx, a)}
	tips, err := s.store.Tips(ctx)
	if err != nil {
		s.log.Warn("could not read the tips; the root message goes without them", zap.Int64("anomaly", a.ID), zap.Error(err))
		return m
	}
	m.Tips = MatchTips(tips, a.Fingerprint)
	return m
}
