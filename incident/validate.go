package incident

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/opsbot/opsbot"
)

// Maximum lengths, in characters (runes). The announcement is one Slack
// section (at most 3000 characters, after escaping), so its two texts are
// shorter than Slack's plain-text input limit.
const (
	MaxUserImpactLen = 1000
	MaxWhatLen       = 1000
	MaxUpdateLen     = 2500
	MaxErrorLen      = 1000 // StatusPageEvent.Error is cut to this
	// MaxMessageLen is Slack's limit on a message's text: the
	// announcement as posted or edited.
	MaxMessageLen = 40000
)

// MaxClockSkew is how far in the future From, Until and an update's time
// may be (clocks differ; people round up).
const MaxClockSkew = 5 * time.Minute

// ErrNotFound: no such incident (errors.Is(err, opsbot.ErrNotFound) holds
// too).
var ErrNotFound = fmt.Errorf("incident %w", opsbot.ErrNotFound)

// validator is opsbot's, with the incident's own time rule.
type validator struct{ opsbot.Validator }

// time checks a required time; with now, it must not be later than now +
// MaxClockSkew.
func (v *validator) time(field string, t, now time.Time) bool {
	if !v.Time(field, t) {
		return false
	}
	if !now.IsZero() && t.After(now.Add(MaxClockSkew)) {
		v.Add(field, "must not be in the future (it is %s, now is %s)",
			t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		return false
	}
	return true
}

// Normalized returns the fields of an announcement a store reads, cleaned
// (opsbot.CleanText) with times in UTC: Environment, Channel, From,
// UserImpact, What, AnnouncedBy, AnnouncedAt, AnomalyID and
// StatusPage.Enabled. The rest is the store's to set.
func (i Incident) Normalized() Incident {
	return Incident{
		Environment: opsbot.CleanText(i.Environment),
		Channel:     opsbot.CleanText(i.Channel),
		From:        i.From.UTC(),
		UserImpact:  opsbot.CleanText(i.UserImpact),
		What:        opsbot.CleanText(i.What),
		AnnouncedBy: opsbot.CleanText(i.AnnouncedBy),
		AnnouncedAt: i.AnnouncedAt.UTC(),
		AnomalyID:   i.AnomalyID,
		StatusPage:  StatusPage{Enabled: i.StatusPage.Enabled},
	}
}

// Validate checks an announcement at time now: userImpact and what are
// required (at most MaxUserImpactLen and MaxWhatLen characters);
// environment, channel, announcedBy and announcedAt are required; from is
// required and not later than now + MaxClockSkew (a zero now skips that
// check), nor than announcedAt + MaxClockSkew; anomalyId is not negative.
func (i Incident) Validate(now time.Time) error {
	v := validator{opsbot.Validator{What: "incident"}}
	v.Required("userImpact", i.UserImpact, MaxUserImpactLen)
	v.Required("what", i.What, MaxWhatLen)
	v.Required("environment", i.Environment, opsbot.MaxIDLen)
	v.Required("channel", i.Channel, opsbot.MaxIDLen)
	v.Required("announcedBy", i.AnnouncedBy, opsbot.MaxIDLen)
	announced := v.time("announcedAt", i.AnnouncedAt, now)
	if v.time("from", i.From, now) && announced && i.From.After(i.AnnouncedAt.Add(MaxClockSkew)) {
		v.Add("from", "must not be after the announcement (%s)", i.AnnouncedAt.UTC().Format(time.RFC3339))
	}
	if i.AnomalyID < 0 {
		v.Add("anomalyId", "must not be negative")
	}
	return v.Err()
}

// Normalized returns the update with text cleaned and At in UTC.
func (u Update) Normalized() Update {
	return Update{IncidentID: u.IncidentID, Seq: u.Seq, Text: opsbot.CleanText(u.Text), By: opsbot.CleanText(u.By),
		At: u.At.UTC(), ThreadTS: opsbot.CleanText(u.ThreadTS), Public: u.Public}
}

// Validate checks an update at time now: text is required (at most
// MaxUpdateLen characters), by and at are required, at is not in the future.
func (u Update) Validate(now time.Time) error {
	v := validator{opsbot.Validator{What: "update"}}
	v.Required("text", u.Text, MaxUpdateLen)
	v.Required("by", u.By, opsbot.MaxIDLen)
	v.time("at", u.At, now)
	v.Text("threadTs", u.ThreadTS, opsbot.MaxIDLen)
	return v.Err()
}

// ValidateResolve checks a resolution of inc at time now: until is
// required, not before the incident's From and not in the future; by is
// required.
func ValidateResolve(inc Incident, until time.Time, by string, now time.Time) error {
	v := validator{opsbot.Validator{What: "resolution"}}
	if v.time("until", until, now) && until.Before(inc.From) {
		v.Add("until", "must not be before the incident's start (%s)", inc.From.UTC().Format(time.RFC3339))
	}
	v.Required("by", by, opsbot.MaxIDLen)
	return v.Err()
}

// ValidateMessage checks the channel, ts and text of an announcement (the
// text may be empty: not kept).
func ValidateMessage(channel, ts, text string) error {
	v := validator{opsbot.Validator{What: "message"}}
	v.Required("channel", channel, opsbot.MaxIDLen)
	v.Required("messageTs", ts, opsbot.MaxIDLen)
	v.Text("text", text, MaxMessageLen)
	return v.Err()
}

// ValidateMessageText checks the text of an edited announcement.
func ValidateMessageText(text string) error {
	v := validator{opsbot.Validator{What: "message"}}
	v.Required("text", text, MaxMessageLen)
	return v.Err()
}

// ValidateStatusPageEvent checks an event: a statuspage_* kind, At, and
// the fields of its kind.
func ValidateStatusPageEvent(ev StatusPageEvent) error {
	v := validator{opsbot.Validator{What: "status page event"}}
	switch ev.Kind {
	case KindStatusPageCreated:
		v.Required("statusPageId", ev.StatusPageID, opsbot.MaxIDLen)
	case KindStatusPageUpdated:
		if ev.UpdateSeq < 1 {
			v.Add("updateSeq", "required")
		}
	case KindStatusPageFailed:
		switch ev.Op {
		case OpCreate, OpUpdate, OpResolve:
		default:
			v.Add("op", "must be create, update or resolve, got %q", ev.Op)
		}
		v.Text("error", ev.Error, MaxErrorLen)
	case KindStatusPageResolved, KindStatusPageSkipped:
	default:
		v.Add("kind", "must be a statuspage_* kind, got %q", ev.Kind)
	}
	v.Text("key", ev.Key, opsbot.MaxIDLen)
	v.time("at", ev.At, time.Time{})
	return v.Err()
}

// CutText shortens s to at most n runes (for error messages).
func CutText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
