package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/opsbot/opsbot/triage"
)

// CheckReplicas checks two stores open on the same, empty database (two
// replicas of the bot, or the bot and a command-line tool): writes through
// both at once stay serialized and each sees the other's.
func CheckReplicas(t *testing.T, r1, r2 triage.Store) {
	t.Helper()
	ctx := context.Background()
	replicas := []triage.Store{r1, r2}

	// "Investigate" clicked on both replicas at once.
	var created atomic.Int32
	ids := make([]int64, 8)
	errs := make([]error, 8)
	run(8, func(i int) {
		a, c, err := replicas[i%2].OpenAnomaly(ctx, newAnomaly("prod", "pods/x"), fmt.Sprintf("envelope-%d", i))
		ids[i], errs[i] = a.ID, err
		if c {
			created.Add(1)
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("OpenAnomaly %d: %v", i, err)
		}
		if ids[i] != ids[0] {
			t.Errorf("OpenAnomaly %d returned #%d, another #%d", i, ids[i], ids[0])
		}
	}
	if created.Load() != 1 {
		t.Errorf("%d anomalies created, want 1", created.Load())
	}
	id := ids[0]

	// Two people deciding at once, through different replicas.
	const rounds = 15
	var failed atomic.Int32
	run(2, func(p int) {
		for i := range rounds {
			d := triage.Decisions[(p+i)%len(triage.Decisions)]
			if _, err := replicas[p].Decide(ctx, id, record(d, fmt.Sprintf("U%d", p), at(i)), fmt.Sprintf("view:%d:%d", p, i)); err != nil {
				failed.Add(1)
				t.Errorf("replica %d Decide %d: %v", p, i, err)
			}
		}
	})
	if failed.Load() > 0 {
		return
	}
	a1, tl1 := checkConsistent(t, r1, id)
	a2, tl2 := checkConsistent(t, r2, id)
	equal(t, "anomaly seen by each replica", a2, a1)
	equal(t, "timeline seen by each replica", tl2, tl1)
	if len(tl1) != 1+2*rounds {
		t.Errorf("%d timeline entries, want %d", len(tl1), 1+2*rounds)
	}
	// A key used on one replica is known to the other.
	b, err := r2.Decide(ctx, id, record(triage.Noise, "U0", at(0)), "view:0:0")
	if err != nil || b.Version != a1.Version {
		t.Errorf("replay through the other replica: version %d, %v; want %d", b.Version, err, a1.Version)
	}
}
