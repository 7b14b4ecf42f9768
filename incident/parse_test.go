package incident_test

import (
	"errors"
	"testing"
	"time"

	"github.com/opsbot/opsbot/incident"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(year int, month time.Month, day, hour, min int) time.Time {
	return time.Date(year, month, day, hour, min, 0, 0, time.UTC)
}

func TestParseClock(t *testing.T) {
	london := mustLoad(t, "Europe/London")
	lordHowe := mustLoad(t, "Australia/Lord_Howe") // clocks move by 30 minutes
	now := utc(2026, 6, 2, 13, 30)                 // 14:30 BST
	justAfterMidnight := utc(2026, 6, 2, 23, 10)   // 00:10 BST on 3 June
	for _, tt := range []struct {
		name string
		in   string
		now  time.Time
		loc  *time.Location
		want time.Time
	}{
		{"today", "14:05", now, london, utc(2026, 6, 2, 13, 5)},
		{"within the clock skew: today", "14:33", now, london, utc(2026, 6, 2, 13, 33)},
		{"just after midnight: yesterday's", "23:50", justAfterMidnight, london, utc(2026, 6, 2, 22, 50)},
		{"later today: yesterday's", "23:50", now, london, utc(2026, 6, 1, 22, 50)},
		{"a date", "2026-05-30 09:00", now, london, utc(2026, 5, 30, 8, 0)},
		{"surrounding space", "  14:05 ", now, london, utc(2026, 6, 2, 13, 5)},
		{"just after midnight, within the skew: today", "00:13", justAfterMidnight, london, utc(2026, 6, 2, 23, 13)},
		{"just after midnight, beyond the skew: yesterday", "00:20", justAfterMidnight, london, utc(2026, 6, 1, 23, 20)},
		{"midnight", "00:00", justAfterMidnight, london, utc(2026, 6, 2, 23, 0)},
		{"new year's night", "23:55", utc(2027, 1, 1, 0, 5), london, utc(2026, 12, 31, 23, 55)},
		{"UTC", "13:05", now, time.UTC, utc(2026, 6, 2, 13, 5)},

		// Clocks go forward on 29 March 2026 at 01:00 GMT: 01:00-02:00
		// does not happen; it is read as GMT.
		{"spring: before the change", "00:30", utc(2026, 3, 29, 2, 0), london, utc(2026, 3, 29, 0, 30)},
		{"spring: a skipped time", "01:30", utc(2026, 3, 29, 2, 0), london, utc(2026, 3, 29, 1, 30)},
		{"spring: after the change", "02:30", utc(2026, 3, 29, 2, 0), london, utc(2026, 3, 29, 1, 30)},
		{"spring: just after midnight, the night before", "23:30", utc(2026, 3, 29, 0, 10), london, utc(2026, 3, 28, 23, 30)},
		{"spring: a date in the skipped hour", "2026-03-29 01:30", utc(2026, 3, 29, 9, 0), london, utc(2026, 3, 29, 1, 30)},
		{"spring: the day after, yesterday's", "23:00", utc(2026, 3, 30, 8, 0), london, utc(2026, 3, 29, 22, 0)},

		// Clocks go back on 25 October 2026 at 02:00 BST: 01:00-02:00
		// happens twice, BST (00:00-01:00 UTC) then GMT (01:00-02:00 UTC).
		{"autumn: the first 01:30 while it is the first pass", "01:30", utc(2026, 10, 25, 0, 45), london, utc(2026, 10, 25, 0, 30)},
		{"autumn: within the skew of the first pass", "01:48", utc(2026, 10, 25, 0, 45), london, utc(2026, 10, 25, 0, 48)},
		{"autumn: the second 01:30 once it is past", "01:30", utc(2026, 10, 25, 1, 45), london, utc(2026, 10, 25, 1, 30)},
		{"autumn: between the two readings", "01:30", utc(2026, 10, 25, 1, 10), london, utc(2026, 10, 25, 0, 30)},
		{"autumn: a date in the repeated hour, the second has passed", "2026-10-25 01:30", utc(2026, 10, 25, 9, 0), london, utc(2026, 10, 25, 1, 30)},
		{"autumn: a date in the repeated hour, during the first", "2026-10-25 01:30", utc(2026, 10, 25, 0, 40), london, utc(2026, 10, 25, 0, 30)},
		{"autumn: just after midnight, the night before", "23:50", utc(2026, 10, 24, 23, 10), london, utc(2026, 10, 24, 22, 50)},
		{"autumn: after the change", "03:00", utc(2026, 10, 25, 3, 30), london, utc(2026, 10, 25, 3, 0)},

		// Lord Howe goes back from +11 to +10:30 on 5 April 2026 at 02:00:
		// 01:30-02:00 happens twice.
		{"half an hour back: the first reading", "01:40", utc(2026, 4, 4, 14, 50), lordHowe, utc(2026, 4, 4, 14, 40)},
		{"half an hour back: the second reading", "01:40", utc(2026, 4, 4, 15, 20), lordHowe, utc(2026, 4, 4, 15, 10)},
	} {
		got, err := incident.ParseClock(tt.in, tt.now, tt.loc)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("%s: ParseClock(%q) at %s = %v, %v; want %v", tt.name, tt.in,
				tt.now.In(tt.loc).Format(time.RFC3339), got.UTC(), err, tt.want)
		}
	}
}

func TestParseClockRefuses(t *testing.T) {
	london := mustLoad(t, "Europe/London")
	for _, in := range []string{"25:00", "noon", "14:05:00", "2026-02-30 10:00", "14.05", "", "2026-11-24"} {
		_, err := incident.ParseClock(in, utc(2026, 6, 2, 13, 30), london)
		var te *incident.TimeError
		if !errors.As(err, &te) || te.Location != london {
			t.Errorf("ParseClock(%q): %v, want a *TimeError", in, err)
			continue
		}
		if want := `"` + in + `" is not a time: say 14:05, or 2026-11-24 14:05 (Europe/London)`; te.Error() != want {
			t.Errorf("error %q, want %q", te.Error(), want)
		}
	}
}

func TestParseRef(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want incident.Ref
		ok   bool
	}{
		{"#12", incident.Ref{ID: 12, Explicit: true}, true},
		{"12", incident.Ref{ID: 12}, true},
		{"0", incident.Ref{}, false},
		{"#0", incident.Ref{}, false},
		{"-3", incident.Ref{}, false},
		{"#", incident.Ref{}, false},
		{"12a", incident.Ref{}, false},
		{"##12", incident.Ref{}, false},
		{"", incident.Ref{}, false},
	} {
		got, ok := incident.ParseRef(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseResolveArgs(t *testing.T) {
	now := time.Date(2026, 11, 23, 14, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		args  []string
		id    int64
		until string
	}{
		{nil, 0, ""},
		{[]string{"#3"}, 3, ""},
		{[]string{"3", "14:05"}, 3, "14:05"},
		{[]string{"14:05"}, 0, "14:05"},
		{[]string{"2026-11-23", "14:05"}, 0, "14:05"},
		{[]string{"#3", "2026-11-23", "14:05"}, 3, "14:05"},
	} {
		ra, err := incident.ParseResolveArgs(tt.args, now, time.UTC)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		until := ""
		if !ra.Until.IsZero() {
			until = ra.Until.Format("15:04")
		}
		if ra.Ref.ID != tt.id || until != tt.until {
			t.Errorf("%q = %+v", tt.args, ra)
		}
	}
}

// Words that cannot be read come back raw, in typed errors: escaping them
// is the caller's.
func TestParseResolveArgsRefuses(t *testing.T) {
	now := time.Date(2026, 11, 23, 14, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		args []string
		word string // a *RefOrTimeError's
		time string // a *TimeError's
	}{
		{[]string{"later"}, "later", ""},
		{[]string{"<!here>"}, "<!here>", ""},
		{[]string{"#0"}, "#0", ""},
		{[]string{"3", "later"}, "", "later"},
		{[]string{"#3", "at", "<b>"}, "", "at <b>"},
		{[]string{"2026-11-23"}, "", "2026-11-23"},
		{[]string{"-3"}, "", "-3"},
	} {
		_, err := incident.ParseResolveArgs(tt.args, now, time.UTC)
		var (
			re *incident.RefOrTimeError
			te *incident.TimeError
		)
		switch {
		case tt.word != "" && errors.As(err, &re) && re.Word == tt.word:
		case tt.time != "" && errors.As(err, &te) && te.Input == tt.time:
		default:
			t.Errorf("%q: %v (%#v)", tt.args, err, err)
		}
	}
}
