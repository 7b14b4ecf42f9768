package noise_test

import (
	"testing"
	"time"

	"github.com/opsbot/opsbot/chart"
	"github.com/opsbot/opsbot/noise"
)

func TestChartIsTheSightingsPerDay(t *testing.T) {
	day := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	r := noise.Report{Since: day, Until: day.Add(3*24*time.Hour - time.Minute), Days: 3, Sightings: 7,
		PerDay: []noise.DayCount{{Day: day, Sightings: 2}, {Day: day.AddDate(0, 0, 1), Sightings: 0}, {Day: day.AddDate(0, 0, 2), Sightings: 5}}}
	s := noise.Chart(r)
	if len(s.Series) != 1 || len(s.Series[0].Points) != 3 || s.Series[0].Points[2].V != 5 ||
		!s.Start.Equal(day) || !s.End.Equal(day.AddDate(0, 0, 2)) {
		t.Fatalf("chart spec %+v", s)
	}
	if s.Title != "Sightings per day, 2026-12-04 to 2026-12-06 (UTC)" || noise.ChartFileName(r) != "noise-2026-12-04-2026-12-06.png" {
		t.Errorf("title %q, file %q", s.Title, noise.ChartFileName(r))
	}
	if _, err := chart.Render(s); err != nil {
		t.Fatalf("Render: %v", err)
	}
	// One day: a window of one day, still drawn.
	r.PerDay, r.Days = r.PerDay[:1], 1
	if _, err := chart.Render(noise.Chart(r)); err != nil {
		t.Fatalf("Render of one day: %v", err)
	}
}
