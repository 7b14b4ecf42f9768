package checklist

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/opsbot/opsbot/schedule"
)

// memClaims is a RunLog in memory whose LastClaim answers what the test
// says and whose Claim records the keys.
type memClaims struct {
	key     string
	at      time.Time
	err     error
	got     []string // prefixes asked
	claimed []string
}

func (c *memClaims) Claim(_ context.Context, key string) (bool, error) {
	c.claimed = append(c.claimed, key)
	return true, nil
}

func (c *memClaims) LastClaim(_ context.Context, prefix string) (string, time.Time, error) {
	c.got = append(c.got, prefix)
	return c.key, c.at, c.err
}

func TestScheduledRuns(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	var rec memClaims
	if err := RecordScheduledRun(ctx, &rec, "prod", at); err != nil || len(rec.claimed) != 1 ||
		rec.claimed[0] != "checklist-done/prod/2026-11-24T09:30Z" {
		t.Fatalf("RecordScheduledRun claimed %q (%v)", rec.claimed, err)
	}
	if k := schedule.ClaimKey(donePrefix("prod"), at); k != rec.claimed[0] {
		t.Errorf("the claim key %q is not schedule.ClaimKey's %q", rec.claimed[0], k)
	}
	claimedAt := at.Add(3 * time.Minute)
	for _, tt := range []struct {
		name string
		c    memClaims
		want time.Time
		err  bool
	}{
		{"never ran", memClaims{}, time.Time{}, false},
		{"the occurrence's time", memClaims{key: rec.claimed[0], at: claimedAt}, at, false},
		{"an odd key: when it was claimed", memClaims{key: "checklist-done/prod/yesterday", at: claimedAt}, claimedAt, false},
		{"store error", memClaims{err: errors.New("database is locked")}, time.Time{}, true},
	} {
		got, err := LastScheduledRun(&tt.c, "prod")(ctx)
		if !got.Equal(tt.want) || (err != nil) != tt.err {
			t.Errorf("%s: %v, %v; want %v (error %v)", tt.name, got, err, tt.want, tt.err)
		}
		if len(tt.c.got) != 1 || tt.c.got[0] != "checklist-done/prod/" {
			t.Errorf("%s: asked for %q", tt.name, tt.c.got)
		}
	}
}
