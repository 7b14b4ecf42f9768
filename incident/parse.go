package incident

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// What people type to name an incident and the end of its impact: the
// words of `/ops update [id] <text>` and `/ops resolve [id] [time]`. Errors
// carry the input as typed; whoever shows them escapes it.

// Ref is how a command names an incident: "#12" or "12". The zero Ref
// names none.
type Ref struct {
	ID int64
	// Explicit is true for "#12": certainly an incident. A bare "12" may
	// also be the start of an update's text (see Desk.UpdateTarget).
	Explicit bool
}

// ParseRef reads "#12" (explicit) or "12" as an incident id; ok is false
// for anything else (a positive number is required).
func ParseRef(word string) (_ Ref, ok bool) {
	s, explicit := strings.CutPrefix(word, "#")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return Ref{}, false
	}
	return Ref{ID: id, Explicit: explicit}, true
}

// ResolveArgs are what `/ops resolve [id] [time]` says.
type ResolveArgs struct {
	// Ref is the incident named; zero: the one open incident.
	Ref Ref
	// Until is when the impact ended; zero: now.
	Until time.Time
}

// ParseResolveArgs reads the words after `resolve`: an optional incident
// id ("12" or "#12"; a first word without ':' or '-' is taken as one),
// then an optional time, read by ParseClock in loc at now. It returns a
// *RefOrTimeError or a *TimeError for words it cannot read.
func ParseResolveArgs(args []string, now time.Time, loc *time.Location) (ResolveArgs, error) {
	var ra ResolveArgs
	if len(args) > 0 && !strings.Contains(args[0], ":") && !strings.Contains(args[0], "-") {
		ref, ok := ParseRef(args[0])
		if !ok {
			return ResolveArgs{}, &RefOrTimeError{Word: args[0]}
		}
		ra.Ref, args = ref, args[1:]
	}
	if len(args) == 0 {
		return ra, nil
	}
	t, err := ParseClock(strings.Join(args, " "), now, loc)
	if err != nil {
		return ResolveArgs{}, err
	}
	ra.Until = t
	return ra, nil
}

// ParseClock reads a time people type, in loc:
//
//   - "2026-11-24 14:05": that day's 14:05;
//   - "14:05": the latest 14:05 that is not ahead of now by more than
//     MaxClockSkew: today's, or yesterday's (just after midnight, "23:50"
//     is yesterday's).
//
// Around a change of the clocks: in the hour that happens twice (autumn),
// the latest reading not ahead of now is taken (the first one, while the
// second is still to come); a time the clocks skipped (spring) is read
// with the offset before the change ("01:30" on the night the UK clocks go
// forward is 02:30 BST, i.e. 01:30 GMT), as time.Date does.
//
// Anything else is a *TimeError.
func ParseClock(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	limit := now.Add(MaxClockSkew)
	if t, err := time.ParseInLocation("2006-01-02 15:04", s, loc); err == nil {
		return latest(readings(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), loc), limit), nil
	}
	c, err := time.Parse("15:04", s)
	if err != nil {
		return time.Time{}, &TimeError{Input: s, Location: loc}
	}
	n := now.In(loc)
	for day := n.Day(); ; day-- {
		ts := readings(n.Year(), n.Month(), day, c.Hour(), c.Minute(), loc)
		if t := latest(ts, limit); !t.After(limit) {
			return t, nil
		}
	}
}

// readings returns the instants at which the clock in loc reads hour:min
// on the given day, in order: one, or two in the hour that happens twice
// when the clocks go back. (A time the clocks skipped gives time.Date's
// one instant.)
func readings(year int, month time.Month, day, hour, min int, loc *time.Location) []time.Time {
	t := time.Date(year, month, day, hour, min, 0, 0, loc)
	want := t.In(loc)
	// time.Date takes one of two readings; the other one, if any, is an
	// offset change away (an hour in most zones; 30 minutes or two hours
	// in a few).
	for _, d := range []time.Duration{time.Hour, 30 * time.Minute, 2 * time.Hour} {
		for _, other := range []time.Time{t.Add(-d), t.Add(d)} {
			o := other.In(loc)
			if o.Hour() == want.Hour() && o.Minute() == want.Minute() && o.Day() == want.Day() {
				if other.Before(t) {
					return []time.Time{other, t}
				}
				return []time.Time{t, other}
			}
		}
	}
	return []time.Time{t}
}

// latest returns the latest of ts (in order) not after limit, or the
// earliest when all are after it.
func latest(ts []time.Time, limit time.Time) time.Time {
	for i := len(ts) - 1; i >= 0; i-- {
		if !ts[i].After(limit) {
			return ts[i]
		}
	}
	return ts[0]
}

// RefOrTimeError is a word of `/ops resolve` that is neither an incident
// id nor a time.
type RefOrTimeError struct {
	// Word is the word as typed.
	Word string
}

func (e *RefOrTimeError) Error() string {
	return fmt.Sprintf("%q is neither an incident id nor a time (14:05, or 2026-11-24 14:05)", e.Word)
}

// TimeError is a time that ParseClock cannot read.
type TimeError struct {
	// Input is the text as typed (trimmed); Location the zone it is read
	// in.
	Input    string
	Location *time.Location
}

func (e *TimeError) Error() string {
	return fmt.Sprintf("%q is not a time: say 14:05, or 2026-11-24 14:05 (%s)", e.Input, e.Location)
}
