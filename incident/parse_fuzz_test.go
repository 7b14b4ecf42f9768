package incident_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/incident"
)

// FuzzParseResolveArgs: `/ops resolve`'s words are read, or refused with
// one of the two errors the bot knows how to show (never another); an id
// read is positive and says whether it was written "#12"; a time of day
// read is never ahead of now by more than MaxClockSkew, nor more than two
// days behind; ParseRef reads back the id it printed.
func FuzzParseResolveArgs(f *testing.F) {
	for _, s := range []string{"", "12", "#12", "14:05", "12 14:05", "#3 2026-11-24 14:05", "2026-11-24 14:05",
		"00:00", "23:59", "01:30", "tomorrow", "12 13 14", "-1", "#0", "+7", "24:00", "9:5", "#99999999999999999999"} {
		f.Add(s, int64(1774745400)) // 2026-03-29 01:50 UTC: the night the UK clocks go forward
		f.Add(s, int64(1792976400)) // 2026-10-25 01:00 UTC: the hour that happens twice
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string, unix int64) {
		// Any instant between 2001 and 2099.
		now := time.Unix(978307200+(unix%3124137600+3124137600)%3124137600, 0)
		words := strings.Fields(text)
		ra, err := incident.ParseResolveArgs(words, now, london)
		if err != nil {
			var ref *incident.RefOrTimeError
			var tm *incident.TimeError
			if !errors.As(err, &ref) && !errors.As(err, &tm) {
				t.Fatalf("ParseResolveArgs(%q): an error the bot cannot show: %T %v", words, err, err)
			}
			return
		}
		if ra.Ref != (incident.Ref{}) {
			if ra.Ref.ID <= 0 || ra.Ref.Explicit != strings.HasPrefix(words[0], "#") {
				t.Fatalf("ParseResolveArgs(%q): ref %+v", words, ra.Ref)
			}
			again, ok := incident.ParseRef("#" + strconv.FormatInt(ra.Ref.ID, 10))
			if !ok || again.ID != ra.Ref.ID || !again.Explicit {
				t.Fatalf("ParseRef does not read back #%d: %+v, %v", ra.Ref.ID, again, ok)
			}
			words = words[1:]
		}
		if len(words) == 1 && !ra.Until.IsZero() { // a time of day
			if ra.Until.After(now.Add(incident.MaxClockSkew)) || ra.Until.Before(now.Add(-49*time.Hour)) {
				t.Fatalf("ParseResolveArgs(%q) at %v: until %v", words, now, ra.Until)
			}
		}
		if len(words) == 0 && !ra.Until.IsZero() {
			t.Fatalf("ParseResolveArgs(%q): a time from no words: %v", text, ra.Until)
		}
	})
}
