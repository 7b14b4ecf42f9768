package incident

import (
	"errors"
	"time"
	"unicode/utf8"

	"github.com/opsbot/opsbot/triage"
)

// Maximum lengths, in characters (runes). The announcement is one Slack
// section (at most 3000 characters, after escaping), so its two texts are
// shorter than Slack's plain-text input limit.
const (
	MaxIDLen         = triage.MaxIDLen // environment, Slack ids, ts, keys
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

// ValidationError lists every problem of an input, with the camelCase field
// names of the announce, update and resolve modals' blocks ("userImpact",
// "what", "from", "until", "text"). It is triage's type, so the bot maps
// both packages' errors to modal blocks the same way; errors.Is(err,
// ErrInvalid) matches it.
type ValidationError = triage.ValidationError

// FieldError is one problem with one field.
type FieldError = triage.FieldError

// Errors returned by stores and the Service, matched with errors.Is.
var (
	// ErrInvalid is matched by every *ValidationError.
	ErrInvalid = triage.ErrInvalid
	// ErrNotFound: no such incident.
	ErrNotFound = errors.New("incident not found")
	// ErrConflict: the write would break a rule that depends on other
	// writes: an idempotency key already used for another operation or
	// incident, an update of a resolved incident, a second announcement
	// message, a status page event that does not follow. It is triage's
	// ErrConflict (the store reports both the same way).
	ErrConflict = triage.ErrConflict
)

// validator is triage's, with the incident's own time rule.
type validator struct{ triage.Validator }

var (
	minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// time checks a required time; with now, it must not be later than now +
// MaxClockSkew.
func (v *validator) time(field string, t, now time.Time) bool {
	switch {
	case t.IsZero():
		v.Add(field, "required")
	case t.Before(minTime) || !t.Before(maxTime):
		v.Add(field, "must be between years 2000 and 2199, got %s", t.UTC().Format(time.RFC3339))
	case !now.IsZero() && t.After(now.Add(MaxClockSkew)):
		v.Add(field, "must not be in the future (it is %s, now is %s)",
			t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	default:
		return true
	}
	return false
}

// Normalized returns the fields of an announcement a store reads, cleaned
// (triage.CleanText) with times in UTC: Environment, Channel, From,
// UserImpact, What, AnnouncedBy, AnnouncedAt, AnomalyID and
// StatusPage.Enabled. The rest is the store's to set.
func (i Incident) Normalized() Incident {
	return Incident{
		Environment: triage.CleanText(i.Environment),
		Channel:     triage.CleanText(i.Channel),
		From:        i.From.UTC(),
		UserImpact:  triage.CleanText(i.UserImpact),
		What:        triage.CleanText(i.What),
		AnnouncedBy: triage.CleanText(i.AnnouncedBy),
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
	v := validator{triage.Validator{What: "incident"}}
	v.Required("userImpact", i.UserImpact, MaxUserImpactLen)
	v.Required("what", i.What, MaxWhatLen)
	v.Required("environment", i.Environment, MaxIDLen)
	v.Required("channel", i.Channel, MaxIDLen)
	v.Required("announcedBy", i.AnnouncedBy, MaxIDLen)
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
	return Update{IncidentID: u.IncidentID, Seq: u.Seq, Text: triage.CleanText(u.Text), By: triage.CleanText(u.By),
		At: u.At.UTC(), ThreadTS: triage.CleanText(u.ThreadTS), Public: u.Public}
}

// Validate checks an update at time now: text is required (at most
// MaxUpdateLen characters), by and at are required, at is not in the future.
func (u Update) Validate(now time.Time) error {
	v := validator{triage.Validator{What: "update"}}
	v.Required("text", u.Text, MaxUpdateLen)
	v.Required("by", u.By, MaxIDLen)
	v.time("at", u.At, now)
	v.Text("threadTs", u.ThreadTS, MaxIDLen)
	return v.Err()
}

// ValidateResolve checks a resolution of inc at time now: until is
// required, not before the incident's From and not in the future; by is
// required.
func ValidateResolve(inc Incident, until time.Time, by string, now time.Time) error {
	v := validator{triage.Validator{What: "resolution"}}
	if v.time("until", until, now) && until.Before(inc.From) {
		v.Add("until", "must not be before the incident's start (%s)", inc.From.UTC().Format(time.RFC3339))
	}
	v.Required("by", by, MaxIDLen)
	return v.Err()
}

// ValidateMessage checks the channel, ts and text of an announcement (the
// text may be empty: not kept).
func ValidateMessage(channel, ts, text string) error {
	v := validator{triage.Validator{What: "message"}}
	v.Required("channel", channel, MaxIDLen)
	v.Required("messageTs", ts, MaxIDLen)
	v.Text("text", text, MaxMessageLen)
	return v.Err()
}

// ValidateMessageText checks the text of an edited announcement.
func ValidateMessageText(text string) error {
	v := validator{triage.Validator{What: "message"}}
	v.Required("text", text, MaxMessageLen)
	return v.Err()
}

// ValidateStatusPageEvent checks an event: a statuspage_* kind, At, and
// the fields of its kind.
func ValidateStatusPageEvent(ev StatusPageEvent) error {
	v := validator{triage.Validator{What: "status page event"}}
	switch ev.Kind {
	case KindStatusPageCreated:
		v.Required("statusPageId", ev.StatusPageID, MaxIDLen)
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
	v.Text("key", ev.Key, MaxIDLen)
	v.time("at", ev.At, time.Time{})
	return v.Err()
}

// ValidateIdempotencyKey checks a key given to a Store method; "" means
// "not idempotent".
func ValidateIdempotencyKey(key string) error { return triage.ValidateIdempotencyKey(key) }

// CutText shortens s to at most n runes (for error messages).
func CutText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
