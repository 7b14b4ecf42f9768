package schedule

import (
	"math/rand/v2"
	"testing"
	"time"
)

var london = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func ldn(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, london)
}

func utc(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		spec    string
		after   time.Time // UTC
		want    []time.Time
		wantStr string
	}{
		{"30 9 * * 1-5", utc(2026, 11, 27, 9, 30), // Friday
			[]time.Time{utc(2026, 11, 30, 9, 30), utc(2026, 12, 1, 9, 30)}, "30 9 * * 1-5"},
		{"  30   9 * *   MON-FRI ", utc(2026, 11, 27, 9, 30),
			[]time.Time{utc(2026, 11, 30, 9, 30)}, "30 9 * * MON-FRI"},
		{"*/15 * * * *", utc(2026, 1, 1, 0, 7),
			[]time.Time{utc(2026, 1, 1, 0, 15), utc(2026, 1, 1, 0, 30), utc(2026, 1, 1, 0, 45), utc(2026, 1, 1, 1, 0)}, ""},
		{"5/20 8-9 * * *", utc(2026, 1, 1, 0, 0), // 5/20 is 5,25,45
			[]time.Time{utc(2026, 1, 1, 8, 5), utc(2026, 1, 1, 8, 25), utc(2026, 1, 1, 8, 45), utc(2026, 1, 1, 9, 5)}, ""},
		{"0 8-18/4 * * *", utc(2026, 1, 1, 9, 0),
			[]time.Time{utc(2026, 1, 1, 12, 0), utc(2026, 1, 1, 16, 0), utc(2026, 1, 2, 8, 0)}, ""},
		{"0 9,17 * * sat,Sun", utc(2026, 11, 27, 0, 0),
			[]time.Time{utc(2026, 11, 28, 9, 0), utc(2026, 11, 28, 17, 0), utc(2026, 11, 29, 9, 0), utc(2026, 11, 29, 17, 0), utc(2026, 12, 5, 9, 0)}, ""},
		{"0 0 * * 7", utc(2026, 11, 24, 0, 0), // 7 is Sunday
			[]time.Time{utc(2026, 11, 29, 0, 0)}, ""},
		{"0 0 1 jan-mar/2 *", utc(2026, 1, 1, 0, 0),
			[]time.Time{utc(2026, 3, 1, 0, 0), utc(2027, 1, 1, 0, 0)}, ""},
		{"@daily", utc(2026, 1, 1, 0, 0), []time.Time{utc(2026, 1, 2, 0, 0)}, "@daily"},
		{"@HOURLY", utc(2026, 1, 1, 0, 0), []time.Time{utc(2026, 1, 1, 1, 0)}, "@HOURLY"},
		{"@weekly", utc(2026, 11, 24, 0, 0), []time.Time{utc(2026, 11, 29, 0, 0)}, ""},
		{"@monthly", utc(2026, 1, 31, 0, 0), []time.Time{utc(2026, 2, 1, 0, 0)}, ""},
		{"@yearly", utc(2026, 1, 1, 0, 0), []time.Time{utc(2027, 1, 1, 0, 0)}, ""},
		{"59 23 31 12 *", utc(2026, 12, 31, 23, 59), []time.Time{utc(2027, 12, 31, 23, 59)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := Parse(tt.spec, time.UTC)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.wantStr != "" && s.String() != tt.wantStr {
				t.Errorf("String() = %q, want %q", s.String(), tt.wantStr)
			}
			got := tt.after
			for i, w := range tt.want {
				got = s.Next(got)
				if !got.Equal(w) {
					t.Fatalf("Next #%d = %s, want %s", i+1, got, w)
				}
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"", `want 5 fields (minute hour day-of-month month day-of-week), got 0 in ""`},
		{"30 9 * *", `want 5 fields (minute hour day-of-month month day-of-week), got 4 in "30 9 * *"`},
		{"0 30 9 * * 1-5", `want 5 fields (minute hour day-of-month month day-of-week), got 6 in "0 30 9 * * 1-5" (there is no seconds field)`},
		{"60 9 * * *", "minute: 60 is out of range 0-59"},
		{"30 24 * * *", "hour: 24 is out of range 0-23"},
		{"30 9 0 * *", "day-of-month: 0 is out of range 1-31"},
		{"30 9 32 * *", "day-of-month: 32 is out of range 1-31"},
		{"30 9 * 13 *", "month: 13 is out of range 1-12"},
		{"30 9 * * 8", "day-of-week: 8 is out of range 0-7"},
		{"30 9 * * FRY", `day-of-week: "FRY" is neither a number nor a name like MON-FRI`},
		{"30 9 * JANUARY *", `month: "JANUARY" is neither a number nor a name like JAN-DEC`},
		{"30 nine * * *", `hour: "nine" is not a number`},
		{"30 9 * * FRI-MON", `day-of-week: range "FRI-MON" goes backwards (write it as two ranges, e.g. FRI-7,0-MON)`},
		{"30 17-9 * * *", `hour: range "17-9" goes backwards (write it as two ranges, e.g. 17-23,0-9)`},
		{"*/0 * * * *", `minute: step "0" in "*/0" must be a whole number of at least 1`},
		{"*/x * * * *", `minute: step "x" in "*/x" must be a whole number of at least 1`},
		{"1,,2 * * * *", `minute: empty item in list "1,,2"`},
		{"1- * * * *", "minute: missing value"},
		{"-5 * * * *", "minute: missing value"},
		{"0 0 30 2 *", `day-of-month: "30" never occurs in month "2", so the schedule never fires`},
		{"0 0 31 4,6,9,11 *", `day-of-month: "31" never occurs in month "4,6,9,11", so the schedule never fires`},
		{"@fortnightly", `unknown macro "@fortnightly" (want @yearly, @monthly, @weekly, @daily or @hourly)`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := Parse(tt.spec, london)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want %q", tt.spec, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q) error\n got %q\nwant %q", tt.spec, err, tt.want)
			}
		})
	}
	// Feb 30 with a weekday is fine: either day field may match.
	if _, err := Parse("0 0 30 2 MON", london); err != nil {
		t.Errorf("0 0 30 2 MON: %v", err)
	}
}

func TestNextLondon(t *testing.T) {
	tests := []struct {
		name  string
		spec  string
		after time.Time
		want  []time.Time // successive occurrences, as instants
	}{
		{"weekday mornings skip the weekend", "30 9 * * 1-5", ldn(2026, 11, 27, 9, 30),
			[]time.Time{ldn(2026, 11, 30, 9, 30), ldn(2026, 12, 1, 9, 30)}},
		{"the default from just before", "30 9 * * 1-5", ldn(2026, 11, 24, 9, 29),
			[]time.Time{utc(2026, 11, 24, 9, 30)}},
		{"the default in summer time is 08:30 UTC", "30 9 * * 1-5", ldn(2026, 7, 1, 0, 0),
			[]time.Time{utc(2026, 7, 1, 8, 30)}},
		{"seconds after the minute", "30 9 * * 1-5", ldn(2026, 11, 24, 9, 30).Add(time.Second),
			[]time.Time{ldn(2026, 11, 25, 9, 30)}},
		// 29 March 2026: at 01:00 GMT the clocks go to 02:00 BST.
		{"01:30 on the spring-forward day runs at 02:30 BST, once", "30 1 * * *", ldn(2026, 3, 28, 12, 0),
			[]time.Time{utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)}},
		{"the default across spring forward", "30 9 * * 1-5", ldn(2026, 3, 27, 10, 0),
			[]time.Time{utc(2026, 3, 30, 8, 30)}},
		{"hourly across spring forward", "0 * * * *", utc(2026, 3, 29, 0, 0),
			[]time.Time{utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0)}},
		{"01:00 and 02:00 fall on one instant", "0 1,2 * * *", utc(2026, 3, 28, 12, 0),
			[]time.Time{utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 0)}},
		// 25 October 2026: at 02:00 BST the clocks go back to 01:00 GMT.
		{"01:30 on the fall-back day runs the first time only", "30 1 * * *", ldn(2026, 10, 24, 12, 0),
			[]time.Time{utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)}},
		{"every 30 minutes across fall back", "*/30 * * * *", utc(2026, 10, 24, 23, 45),
			[]time.Time{utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 0), utc(2026, 10, 25, 2, 30)}},
		{"the default across fall back", "30 9 * * 1-5", ldn(2026, 10, 23, 10, 0),
			[]time.Time{utc(2026, 10, 26, 9, 30)}},
		{"02:30 does not exist in spring, exists once in autumn", "30 2 * * *", utc(2026, 3, 28, 12, 0),
			[]time.Time{utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 1, 30)}},
		{"the 31st skips short months", "0 12 31 * *", ldn(2026, 1, 31, 12, 0),
			[]time.Time{ldn(2026, 3, 31, 12, 0), ldn(2026, 5, 31, 12, 0)}},
		{"29 February waits for a leap year", "0 0 29 2 *", ldn(2026, 1, 1, 0, 0),
			[]time.Time{ldn(2028, 2, 29, 0, 0), ldn(2032, 2, 29, 0, 0)}},
		{"29 February across 2100", "0 0 29 2 *", ldn(2096, 3, 1, 0, 0),
			[]time.Time{ldn(2104, 2, 29, 0, 0)}},
		{"last day of the year to the first", "0 0 1 1 *", ldn(2026, 12, 31, 23, 59),
			[]time.Time{ldn(2027, 1, 1, 0, 0)}},
		{"day-of-month or day-of-week when both are set", "0 9 1 * MON", ldn(2026, 11, 24, 0, 0),
			[]time.Time{ldn(2026, 11, 30, 9, 0), ldn(2026, 12, 1, 9, 0), ldn(2026, 12, 7, 9, 0)}},
		{"day-of-month and day-of-week when one starts with *", "0 9 */2 * MON", ldn(2026, 11, 24, 0, 0),
			[]time.Time{ldn(2026, 12, 7, 9, 0), ldn(2026, 12, 21, 9, 0)}},
		{"a Friday the 13th", "0 9 13 * * ", ldn(2026, 11, 1, 0, 0),
			[]time.Time{ldn(2026, 11, 13, 9, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := MustParse(tt.spec, london)
			got := tt.after
			for i, w := range tt.want {
				got = s.Next(got)
				if !got.Equal(w) {
					t.Fatalf("Next #%d after %s = %s (%s), want %s (%s)", i+1, tt.after.In(london),
						got.In(london), got.UTC(), w.In(london), w.UTC())
				}
				if got.Location() != london {
					t.Errorf("Next returned a time in %s, want Europe/London", got.Location())
				}
			}
		})
	}
}

// TestNextAgainstBruteForce compares Next with a minute-by-minute scan in
// UTC (no daylight saving) for random schedules and start times.
func TestNextAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fieldSpecs := [][]string{
		{"*", "0", "*/7", "5-10", "1,31,59", "30/10"},
		{"*", "9", "*/5", "8-17", "0,12,23"},
		{"*", "1", "15", "31", "1-7", "*/10"},
		{"*", "2", "*/3", "1-6", "dec"},
		{"*", "1-5", "sat,sun", "0", "*/2"},
	}
	for range 200 {
		spec := ""
		for i, fs := range fieldSpecs {
			if i > 0 {
				spec += " "
			}
			spec += fs[r.IntN(len(fs))]
		}
		s, err := Parse(spec, time.UTC)
		if err != nil {
			continue // a combination that never fires
		}
		after := utc(2026, 1, 1, 0, 0).Add(time.Duration(r.IntN(365*24*60)) * time.Minute).Add(time.Duration(r.IntN(60)) * time.Second)
		got := s.Next(after)
		want := bruteNext(s, after)
		if want.IsZero() && got.Sub(after) > 400*24*time.Hour {
			continue // beyond the brute force's reach
		}
		if !got.Equal(want) {
			t.Errorf("%q after %s: Next = %s, brute force = %s", spec, after, got, want)
		}
	}
}

func bruteNext(s *Schedule, after time.Time) time.Time {
	t := after.Truncate(time.Minute).Add(time.Minute)
	end := t.AddDate(0, 0, 400)
	for t.Before(end) {
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		if !s.dayMatches(day) {
			t = day.AddDate(0, 0, 1)
			continue
		}
		if contains(s.hours, t.Hour()) && contains(s.minutes, t.Minute()) {
			return t
		}
		t = t.Add(time.Minute)
	}
	return time.Time{}
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name string
		wall time.Time // as a UTC date-time: the wall clock wanted
		want time.Time
	}{
		{"ordinary winter", utc(2026, 1, 10, 9, 30), utc(2026, 1, 10, 9, 30)},
		{"ordinary summer", utc(2026, 7, 10, 9, 30), utc(2026, 7, 10, 8, 30)},
		{"in the gap", utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 1, 30)},
		{"just before the gap", utc(2026, 3, 29, 0, 59), utc(2026, 3, 29, 0, 59)},
		{"just after the gap", utc(2026, 3, 29, 2, 0), utc(2026, 3, 29, 1, 0)},
		{"repeated: the first", utc(2026, 10, 25, 1, 0), utc(2026, 10, 25, 0, 0)},
		{"repeated: the first (59)", utc(2026, 10, 25, 1, 59), utc(2026, 10, 25, 0, 59)},
		{"after the repeat", utc(2026, 10, 25, 2, 0), utc(2026, 10, 25, 2, 0)},
	}
	for _, tt := range tests {
		w := tt.wall
		got := resolve(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), london)
		if !got.Equal(tt.want) {
			t.Errorf("%s: resolve(%s) = %s (%s), want %s", tt.name, w.Format("2006-01-02 15:04"), got, got.UTC(), tt.want)
		}
	}
}

func TestParseNilLocationIsUTC(t *testing.T) {
	s := MustParse("0 0 * * *", nil)
	if s.Location() != time.UTC {
		t.Errorf("location = %s", s.Location())
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParse of an invalid spec did not panic")
		}
	}()
	MustParse("bad", nil)
}

func BenchmarkNextEveryMinute(b *testing.B) {
	s := MustParse("* * * * *", london)
	t := ldn(2026, 11, 24, 23, 58)
	for b.Loop() {
		s.Next(t)
	}
}
