package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/opsbot/opsbot/triage"
)

// BenchmarkDecide measures Decide on s, an empty store: b.N decisions made
// by 4×GOMAXPROCS goroutines at once (b.RunParallel), each with its own
// idempotency key, spread over the given number of anomalies (1: everyone
// deciding the same anomaly, the worst case for its row lock). It reports
// "decisions/s".
func BenchmarkDecide(b *testing.B, s triage.Store, anomalies int) {
	ctx := context.Background()
	ids := make([]int64, anomalies)
	for i := range ids {
		a, _, err := s.OpenAnomaly(ctx, newAnomaly("prod", fmt.Sprintf("bench/%d", i)), "")
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = a.ID
	}
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			d := triage.Decisions[i%int64(len(triage.Decisions))]
			r := record(d, fmt.Sprintf("U%d", i%7), at(int(i%100000)))
			if _, err := s.Decide(ctx, ids[i%int64(len(ids))], r, fmt.Sprintf("bench:%d", i)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
