package bot

import (
	"strconv"
	"testing"
	"time"
)

// The Retry button keeps the order: a length, or the end of "until a
// date", which Retry does not move.
func TestSilenceOrderValueRoundTrips(t *testing.T) {
	end := time.Date(2026, 12, 10, 5, 0, 0, 0, time.UTC)
	for _, c := range []silenceChoice{
		{length: 2 * time.Hour, value: "2h"},
		{length: 7 * 24 * time.Hour, value: "7d", widen: true},
		{until: end, value: "@" + strconv.FormatInt(end.Unix(), 10)},
	} {
		v := silenceOrderValue(12, c)
		id, got, err := parseSilenceOrderValue(v)
		if err != nil || id != 12 || got.length != c.length || !got.until.Equal(c.until) || got.widen != c.widen {
			t.Errorf("%q: %d %+v, %v; want %+v", v, id, got, err, c)
		}
	}
	for _, v := range []string{"12:3h:", "12:@:", "12:@x:", "12:@-5:", "0:2h:", "12:2h:wide"} {
		if _, _, err := parseSilenceOrderValue(v); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
}

// The end of "until a date" is the end of the day picked in the bot's
// time zone, after now and at most the longest silence ahead.
func TestSilenceUntilDay(t *testing.T) {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 23, 30, 0, 0, loc)
	max := 7 * 24 * time.Hour
	for _, tt := range []struct {
		date    string
		want    time.Time
		problem string
	}{
		{"2026-12-06", time.Date(2026, 12, 7, 0, 0, 0, 0, loc), ""},
		{"2026-12-12", time.Date(2026, 12, 13, 0, 0, 0, 0, loc), ""},
		{"2026-12-13", time.Time{}, "2026-12-13 is too far ahead: a silence lasts at most 7 days, until 2026-12-12 at the latest."},
		{"2026-12-05", time.Time{}, "2026-12-05 has passed: pick today or a later day."},
		{"", time.Time{}, "Pick the day the silence ends."},
		{"6/12/2026", time.Time{}, `"6/12/2026" is not a date.`},
	} {
		got, problem := silenceUntilDay(tt.date, now, loc, max)
		if !got.Equal(tt.want) || problem != tt.problem {
			t.Errorf("%q: %s, %q; want %s, %q", tt.date, got, problem, tt.want, tt.problem)
		}
	}
}
