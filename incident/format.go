package incident

import (
	"fmt"
	"strings"
	"time"
)

// TimeLayout is how incident times are shown: the runbook's "{time}".
// In Europe/London: "2026-11-24 09:30 GMT", "2026-06-02 14:05 BST". The
// date is always there (incidents cross midnight), minutes are the
// precision people quote, and the zone abbreviation says which clock.
const TimeLayout = "2006-01-02 15:04 MST"

// FormatTime formats t in loc (UTC when loc is nil) with TimeLayout.
func FormatTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(TimeLayout)
}

// FormatDuration formats how long an incident lasted for the closing line,
// rounded to the nearest minute: "45m", "1h 25m", "2h", "1d 3h 5m";
// under half a minute is "0m". Negative durations count as 0.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	m := int64(d.Round(time.Minute) / time.Minute)
	days, hours, mins := m/(24*60), m/60%24, m%60
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%dd", days))
	}
	if hours > 0 {
		parts = append(parts, fmt.Sprintf("%dh", hours))
	}
	if mins > 0 || len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%dm", mins))
	}
	return strings.Join(parts, " ")
}

// oneLine folds s onto one line: runs of white space, new lines included,
// become one space. The announcement's fields are one line each.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
