package bot

import (
	"testing"
	"time"
)

func TestParseClock(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 2, 13, 30, 0, 0, time.UTC) // 14:30 BST
	justAfterMidnight := time.Date(2026, 6, 2, 23, 10, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		now  time.Time
		want time.Time
		bad  bool
	}{
		{"14:05", now, time.Date(2026, 6, 2, 13, 5, 0, 0, time.UTC), false},
		{"14:33", now, time.Date(2026, 6, 2, 13, 33, 0, 0, time.UTC), false}, // within the clock skew: today
		{"23:50", justAfterMidnight, time.Date(2026, 6, 2, 22, 50, 0, 0, time.UTC), false},
		{"23:50", now, time.Date(2026, 6, 1, 22, 50, 0, 0, time.UTC), false}, // later today: yesterday's
		{"2026-05-30 09:00", now, time.Date(2026, 5, 30, 8, 0, 0, 0, time.UTC), false},
		{"25:00", now, time.Time{}, true},
		{"noon", now, time.Time{}, true},
	} {
		got, err := parseClock(tt.in, tt.now, london)
		if (err != nil) != tt.bad || !got.Equal(tt.want) {
			t.Errorf("parseClock(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestParseResolveArgs(t *testing.T) {
	now := time.Date(2026, 11, 23, 14, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		args  []string
		id    int64
		until string
		bad   bool
	}{
		{nil, 0, "", false},
		{[]string{"#3"}, 3, "", false},
		{[]string{"3", "14:05"}, 3, "14:05", false},
		{[]string{"14:05"}, 0, "14:05", false},
		{[]string{"2026-11-23", "14:05"}, 0, "14:05", false},
		{[]string{"#3", "2026-11-23", "14:05"}, 3, "14:05", false},
		{[]string{"later"}, 0, "", true},
		{[]string{"3", "later"}, 0, "", true},
	} {
		ra, problem := parseResolveArgs(tt.args, now, time.UTC)
		if (problem != "") != tt.bad {
			t.Errorf("%q: problem %q", tt.args, problem)
			continue
		}
		if tt.bad {
			continue
		}
		until := ""
		if !ra.until.IsZero() {
			until = ra.until.Format("15:04")
		}
		if ra.id != tt.id || until != tt.until {
			t.Errorf("%q = %+v", tt.args, ra)
		}
	}
}

func TestIncidentFormMetadata(t *testing.T) {
	f := incidentForm{Env: "prod", AnomalyID: 12, Channel: "C0123"}
	got, err := parseIncidentForm(f.metadata())
	if err != nil || got != f {
		t.Errorf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "prod", "prod|x|C1", "|1|C1", "prod|-1|C1"} {
		if _, err := parseIncidentForm(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
