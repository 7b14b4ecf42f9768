package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/noise"
	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/schedule/clocktest"
	"github.com/opsbot/opsbot/store/storetest"
	"github.com/opsbot/opsbot/triage"
)

// gatedNoise holds the noise report's first read until gate is closed.
type gatedNoise struct {
	noise.Store
	gate <-chan struct{}
}

func (g gatedNoise) SightingsPerDay(ctx context.Context, since, until time.Time) ([]noise.DayCount, error) {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.Store.SightingsPerDay(ctx, since, until)
}

func TestNoiseWeeklyOnceAcrossReplicasSQLite(t *testing.T) {
	testNoiseWeeklyOnce(t, onSQLite)
}

func TestNoiseWeeklyOnceAcrossReplicasPostgres(t *testing.T) {
	testNoiseWeeklyOnce(t, onPostgres)
}

// testNoiseWeeklyOnce: two bots (replicas) share one store seeded with
// the noise scenario; both post the weekly report at Wednesday 12:00 UTC:
// it is posted once, with the store's figures over the days asked for.
func testNoiseWeeklyOnce(t *testing.T, kind storeKind) {
	fs := newFake(t)
	s1, s2 := sharedStores(t, kind)
	seeded := storetest.SeedNoise(t, s1.(storetest.Store)) // Wednesday 25 November, 11:00 UTC
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	next := at.AddDate(0, 0, 7)
	clock := clocktest.New(seeded)
	gate := make(chan struct{})
	var hs []*harness
	for _, s := range []triage.Store{s1, s2} {
		h := newHarness(t, fs, s, func(o *setup) {
			o.Now = clock.Now
			o.Noise = gatedNoise{s.(noise.Store), gate}
			o.NoiseWeekly = &testNoiseWeekly{NoiseWeekly: bot.NoiseWeekly{Channel: opsChannel, Days: 3},
				Config: schedule.Config{Schedule: "0 12 * * WED", Timezone: "UTC"}, Store: s.(schedule.Claimer), Clock: clock}
		})
		h.start()
		hs = append(hs, h)
	}
	ctx := hs[0].ctx
	if err := fs.WaitForConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	fireAt(t, ctx, clock, at, 2)
	// One replica builds the report; the other found the occurrence held
	// and watches it.
	if err := clock.WaitForWaiter(ctx, at.Add(2*time.Second), 1); err != nil {
		t.Fatalf("no replica watches the held occurrence: %v (waiting: %v)", err, clock.Waiting())
	}
	close(gate)
	posted := hs[0].waitMessage(opsChannel, "*Noise report*")
	waitNextOccurrence(t, ctx, clock, next, 1)
	clock.Advance(2 * time.Second)
	waitNextOccurrence(t, ctx, clock, next, 2)

	if n := len(fs.Messages(opsChannel)); n != 1 {
		t.Errorf("%d messages in #ops, want the one report:\n%s", n, dump(fs.Messages(opsChannel)))
	}
	if n := len(fs.Calls("chat.postMessage")); n != 1 {
		t.Errorf("%d chat.postMessage calls, want 1", n)
	}
	want := storetest.NoiseWant()
	text := posted.AllText()
	for _, f := range []string{
		"the last 3 days (2026-11-23 to 2026-11-25 12:00 UTC", "*9* sightings",
		"*4×* prod `pods/api/crashloop`", "*2×* prod Alertmanager `alerts/prod/DiskFilling/shop`",
		"Undecided anomalies: 2", "2 of 3 Noise or Intermittent decisions (67%)",
		"*Silences extended again and again: 1*", "silence `" + want.ExtendedSilences[0].SilenceID + "`",
	} {
		if !strings.Contains(text, f) {
			t.Errorf("the weekly report does not show %q:\n%s", f, text)
		}
	}
	if kind == onSQLite {
		goldenPosted(t, "noise-weekly", posted.Text, posted.Blocks)
	}
}
