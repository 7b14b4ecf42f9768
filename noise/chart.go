package noise

import (
	"github.com/opsbot/opsbot/chart"
)

// Chart is the sightings per day of r as a chart (chart.Render draws it):
// one point per UTC day of the period, no thresholds.
func Chart(r Report) chart.Spec {
	pts := make([]chart.Point, len(r.PerDay))
	for i, d := range r.PerDay {
		pts[i] = chart.Point{T: d.Day.UTC(), V: float64(d.Sightings)}
	}
	s := chart.Spec{
		Title:      "Sightings per day, " + r.Since.UTC().Format("2006-01-02") + " to " + r.Until.UTC().Format("2006-01-02") + " (UTC)",
		Unit:       chart.UnitNone,
		Series:     []chart.Series{{Points: pts}},
		TimeFormat: "Jan 2",
	}
	if n := len(pts); n > 0 {
		// The window is the days' starts, and one more day when there is
		// only one (a window ends after it starts).
		s.Start, s.End = pts[0].T, pts[n-1].T
		if n == 1 {
			s.End = s.Start.AddDate(0, 0, 1)
		}
	}
	return s
}

// ChartFileName is the file name of r's chart: noise-<since>-<until>.png,
// days in UTC.
func ChartFileName(r Report) string {
	return "noise-" + r.Since.UTC().Format("2006-01-02") + "-" + r.Until.UTC().Format("2006-01-02") + ".png"
}
