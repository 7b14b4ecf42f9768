package schedule

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed five-field cron expression in a time zone. Create it
// with Parse. It is immutable and safe for concurrent use.
type Schedule struct {
	spec    string
	loc     *time.Location
	minutes []int // sorted
	hours   []int // sorted
	dom     uint64
	month   uint64
	dow     uint64
	// domStar and dowStar record a field written with '*' ("*", "*/2"): as
	// in Vixie cron and cronie, when both day fields are restricted a day
	// matches if either does; otherwise both must.
	domStar, dowStar bool
}

// field describes one cron field.
type field struct {
	name     string
	min, max int
	names    map[string]int
}

var (
	minuteField = field{name: "minute", min: 0, max: 59}
	hourField   = field{name: "hour", min: 0, max: 23}
	domField    = field{name: "day-of-month", min: 1, max: 31}
	monthField  = field{name: "month", min: 1, max: 12, names: map[string]int{
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	}}
	// 7 is Sunday too, as in most crons.
	dowField = field{name: "day-of-week", min: 0, max: 7, names: map[string]int{
		"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
	}}
)

// macros are the shorthands Parse accepts.
var macros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// daysIn is the largest day of each month (February in a leap year).
var daysIn = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// Parse parses a cron expression of five fields, "minute hour day-of-month
// month day-of-week", evaluated in loc (UTC when nil). Each field is "*", a
// value, a range "a-b", a step "*/n", "a-b/n" or "a/n" (a to the end, every
// n), or a comma-separated list of these. Months and days of the week may be
// names (JAN-DEC, SUN-SAT, any case); day-of-week 0 and 7 are Sunday. The
// macros @yearly, @annually, @monthly, @weekly, @daily, @midnight and
// @hourly are accepted too.
//
// When both day-of-month and day-of-week are restricted (neither starts with
// "*"), a day matches if either matches, as in Vixie cron: "0 9 1 * MON" is
// the 1st of each month and every Monday.
//
// Errors name the field and the problem: `hour: 25 is out of range 0-23`.
func Parse(spec string, loc *time.Location) (*Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	expr := strings.TrimSpace(spec)
	if strings.HasPrefix(expr, "@") {
		m, ok := macros[strings.ToLower(expr)]
		if !ok {
			return nil, fmt.Errorf("unknown macro %q (want @yearly, @monthly, @weekly, @daily or @hourly)", expr)
		}
		expr = m
	}
	fs := strings.Fields(expr)
	if len(fs) != 5 {
		hint := ""
		if len(fs) == 6 {
			hint = " (there is no seconds field)"
		}
		return nil, fmt.Errorf("want 5 fields (minute hour day-of-month month day-of-week), got %d in %q%s", len(fs), spec, hint)
	}
	s := &Schedule{spec: strings.Join(strings.Fields(strings.TrimSpace(spec)), " "), loc: loc}
	var mins, hrs uint64
	var err error
	if mins, _, err = parseField(fs[0], minuteField); err != nil {
		return nil, err
	}
	if hrs, _, err = parseField(fs[1], hourField); err != nil {
		return nil, err
	}
	if s.dom, s.domStar, err = parseField(fs[2], domField); err != nil {
		return nil, err
	}
	if s.month, _, err = parseField(fs[3], monthField); err != nil {
		return nil, err
	}
	if s.dow, s.dowStar, err = parseField(fs[4], dowField); err != nil {
		return nil, err
	}
	if s.dow&(1<<7) != 0 {
		s.dow = s.dow&^(1<<7) | 1
	}
	s.minutes, s.hours = list(mins), list(hrs)

	// A day-of-month that no selected month has never fires (unless the
	// day-of-week can match instead).
	if s.dowStar || s.domStar {
		minDom := bits.TrailingZeros64(s.dom)
		possible := false
		for _, m := range list(s.month) {
			if daysIn[m] >= minDom {
				possible = true
			}
		}
		if !possible {
			return nil, fmt.Errorf("day-of-month: %q never occurs in month %q, so the schedule never fires", fs[2], fs[3])
		}
	}
	return s, nil
}

// MustParse is Parse for expressions known to be valid (constants, tests);
// it panics on an error.
func MustParse(spec string, loc *time.Location) *Schedule {
	s, err := Parse(spec, loc)
	if err != nil {
		panic(err)
	}
	return s
}

// parseField parses one field into a bit set of its values. star reports a
// field written with '*'.
func parseField(s string, f field) (set uint64, star bool, err error) {
	for _, item := range strings.Split(s, ",") {
		if item == "" {
			return 0, false, fmt.Errorf("%s: empty item in list %q", f.name, s)
		}
		rng, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return 0, false, fmt.Errorf("%s: step %q in %q must be a whole number of at least 1", f.name, stepText, item)
			}
			step = n
		}
		var lo, hi int
		switch {
		case rng == "*":
			lo, hi = f.min, f.max
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			if lo, err = value(a, f); err != nil {
				return 0, false, err
			}
			if hi, err = value(b, f); err != nil {
				return 0, false, err
			}
			if lo > hi {
				return 0, false, fmt.Errorf("%s: range %q goes backwards (write it as two ranges, e.g. %s-%d,%d-%s)",
					f.name, rng, a, f.max, f.min, b)
			}
		default:
			if lo, err = value(rng, f); err != nil {
				return 0, false, err
			}
			hi = lo
			if hasStep {
				hi = f.max // "5/15": from 5 to the end, every 15
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << uint(v)
		}
	}
	return set, strings.HasPrefix(s, "*"), nil
}

// value parses a number or a name of field f.
func value(s string, f field) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("%s: missing value", f.name)
	}
	if n, ok := f.names[strings.ToLower(s)]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		if f.names != nil {
			return 0, fmt.Errorf("%s: %q is neither a number nor a name like %s", f.name, s, exampleNames(f))
		}
		return 0, fmt.Errorf("%s: %q is not a number", f.name, s)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%s: %d is out of range %d-%d", f.name, n, f.min, f.max)
	}
	return n, nil
}

func exampleNames(f field) string {
	if f.name == "month" {
		return "JAN-DEC"
	}
	return "MON-FRI"
}

// list returns the values of a bit set in increasing order.
func list(set uint64) []int {
	var out []int
	for set != 0 {
		v := bits.TrailingZeros64(set)
		out = append(out, v)
		set &^= 1 << uint(v)
	}
	return out
}

// String returns the expression as given (white space normalised).
func (s *Schedule) String() string { return s.spec }

// Location returns the time zone the schedule is evaluated in.
func (s *Schedule) Location() *time.Location { return s.loc }

// horizon bounds Next's search. The longest gap of a schedule Parse accepts
// is that of "0 0 29 2 *": 8 years around a non-leap century (2096-2104).
const horizon = 9 * 366

// Next returns the first time strictly after after at which the schedule
// fires, or the zero time if it never does (within 9 years).
//
// Times are wall-clock times in the schedule's location. Across daylight
// saving transitions (Europe/London: the last Sunday of March at 01:00 GMT
// the clocks go to 02:00 BST; the last Sunday of October at 02:00 BST they
// go back to 01:00 GMT):
//
//   - a wall time that does not exist (in the spring-forward gap) fires as
//     if the clocks had not changed yet: "30 1 * * *" fires at 02:30 BST
//     (01:30 UTC) on that day, once;
//   - a wall time that occurs twice (in the repeated hour) fires the first
//     time only: "30 1 * * *" fires at 01:30 BST (00:30 UTC), not again at
//     01:30 GMT;
//   - two wall times that fall on the same instant fire once: "0 1,2 * * *"
//     fires once at 02:00 BST on the spring-forward day.
func (s *Schedule) Next(after time.Time) time.Time {
	a := after.In(s.loc)
	y, m, d := a.Date()
	// Calendar days are counted in UTC, where every day has 24 hours; the
	// day before after's date is included in case a transition at
	// midnight moved the clocks back across it.
	first := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	for i := 0; i <= horizon; i++ {
		day := first.AddDate(0, 0, i)
		// Every instant of the day is before the next midnight (as a
		// wall time) plus the largest negative offset, 12 hours.
		if !s.dayMatches(day) || !day.AddDate(0, 0, 1).Add(12*time.Hour).After(after) {
			continue
		}
		dy, dm, dd := day.Date()
		var best time.Time
		for _, h := range s.hours {
			for _, mi := range s.minutes {
				t := resolve(dy, dm, dd, h, mi, s.loc)
				if t.After(after) && (best.IsZero() || t.Before(best)) {
					best = t
				}
			}
		}
		if !best.IsZero() {
			return best
		}
	}
	return time.Time{}
}

// dayMatches reports whether the calendar day (a UTC midnight) is one the
// schedule fires on.
func (s *Schedule) dayMatches(day time.Time) bool {
	if s.month&(1<<uint(day.Month())) == 0 {
		return false
	}
	domOK := s.dom&(1<<uint(day.Day())) != 0
	dowOK := s.dow&(1<<uint(day.Weekday())) != 0
	if s.domStar || s.dowStar {
		return domOK && dowOK
	}
	return domOK || dowOK
}

// resolve returns the instant the wall time y-mo-d h:mi has in loc: the
// earlier one when it occurs twice, and, when it does not occur (a
// spring-forward gap), the instant it would have had with the offset in
// force before the gap. time.Date leaves both cases unspecified.
func resolve(y int, mo time.Month, d, h, mi int, loc *time.Location) time.Time {
	wall := time.Date(y, mo, d, h, mi, 0, 0, time.UTC).Unix()
	matches := func(t time.Time) bool {
		ty, tm, td := t.Date()
		return ty == y && tm == mo && td == d && t.Hour() == h && t.Minute() == mi
	}
	var best int64
	found := false
	// The offsets in force a day either side are the only candidates
	// (transitions are months apart in every zone).
	for _, probe := range [...]int64{wall - 86400, wall + 86400, wall} {
		_, off := time.Unix(probe, 0).In(loc).Zone()
		cand := wall - int64(off)
		if matches(time.Unix(cand, 0).In(loc)) && (!found || cand < best) {
			best, found = cand, true
		}
	}
	if !found {
		_, off := time.Unix(wall-86400, 0).In(loc).Zone()
		best = wall - int64(off)
	}
	return time.Unix(best, 0).In(loc)
}
