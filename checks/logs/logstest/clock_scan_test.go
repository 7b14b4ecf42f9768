package logstest_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/opsbot/opsbot/checks/logs"
	"github.com/opsbot/opsbot/checks/logs/logstest"
)

// TestGapLogScansAsCounted: a log on a clock, over thousands of hours each
// drawn on its own, cut by a filter, holds the events its Stats count, as
// the logs check's scanner reads them: no statement at an hour's start is
// taken for a part of the hour before's last.
func TestGapLogScansAsCounted(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range []logstest.Format{logstest.Plain, logstest.JSON} {
		o := logstest.Options{Seed: 4, ErrorRatio: 0.5, Format: f, Gap: 20 * time.Minute,
			Start: start, Since: start.Add(90 * time.Minute), Until: start.Add(3000 * time.Hour)}
		var buf bytes.Buffer
		st, err := logstest.GenerateWith(&buf, o)
		if err != nil {
			t.Fatal(err)
		}
		sc := logs.NewScanner(logs.ScannerConfig{})
		if err := sc.Scan(&buf); err != nil {
			t.Fatal(err)
		}
		if got := sc.Stats(); got.Events != st.Events || got.Lines != st.Lines || st.Events < 1000 {
			t.Errorf("%s: scanner %+v, generator %+v", f, got, st)
		}
	}
}
