package incident

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/internal/keylock"
	"github.com/opsbot/opsbot/redact"
	"github.com/opsbot/opsbot/templates"
)

// Announcer posts the incident's messages in Slack. The bot implements it
// (chat.postMessage, chat.update, a reply in the thread), putting each text
// in a mrkdwn section; the text is ready for Slack (escaped).
type Announcer interface {
	// Post posts text in channel and returns the message's ts.
	Post(ctx context.Context, channel, text string) (ts string, err error)
	// Edit replaces the text of the message ts in channel.
	Edit(ctx context.Context, channel, ts, text string) error
	// Reply posts text in the thread of the message threadTS.
	Reply(ctx context.Context, channel, threadTS, text string) error
	// Delete deletes the message ts in channel: an announcement posted
	// whose record failed. A message already gone is an error matching
	// opsbot.ErrNotFound.
	Delete(ctx context.Context, channel, ts string) error
}

// Renderer renders message templates; *templates.Set implements it.
type Renderer interface {
	Render(name string, data any) (string, error)
}

// Options are the Service's dependencies and settings.
type Options struct {
	// Store keeps the incidents. Required.
	Store Store
	// Slack posts the messages. Required.
	Slack Announcer
	// StatusPage is the status page (the statuspage package's adapter);
	// nil when the status page is not configured (incidents are then
	// announced with StatusPage.Enabled false). Its failures are
	// classified by IsRetryable.
	StatusPage StatusPageClient
	// Templates renders the messages (templates.New). Required.
	Templates Renderer
	// Escape makes untrusted text safe for Slack mrkdwn: the bot's one
	// escaping function. Required: this package does not guess.
	Escape func(string) string
	// Mention shows a Slack user id in a message. Default: "<@ID>" for a
	// user id ("U0123", "W0123"), the escaped text otherwise ("opsbot").
	Mention func(userID string) string
	// Redactor takes secrets out of what people write (an announcement's
	// user impact and what, updates) before it is stored, posted or sent
	// to the status page (config's redaction block). The zero Redactor
	// redacts every kind, emails included.
	Redactor redact.Redactor
	// Location is where times are shown (Europe/London). Default UTC.
	Location *time.Location
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger may be nil.
	Logger *zap.Logger
}

// Service runs the runbook's incident procedure: it records each step in
// the Store, posts in Slack through the Announcer and keeps the status page
// in step. It is safe for concurrent use.
//
// Every method can be called again with the same idempotency key after an
// error or a crash, and finishes what the first call left undone: the
// store's writes are idempotent, the announcement is posted only while no
// message is recorded and edited only while its edit is not recorded (the
// edit appends the resolution to the text as posted, which is stored), and
// the status page incident is created with the incident's stable key.
// Finish does the same for an incident by its id alone (a Retry button).
//
// The incident is recorded before its announcement is posted, and the
// announcement recorded once posted (its ts is only known then): an
// announcement whose record fails (the store, or a shutdown cancelling
// ctx) is deleted again, so that no announcement stays in Slack without
// its incident knowing it, and a retry posts the one announcement. Two
// things may still be repeated by a retry: a post whose success was
// neither recorded nor deleted (the process killed between the two, or
// Slack refusing the deletion: logged with the message's ts), or a thread
// reply (not recorded at all), and a status page update whose answer was
// lost. Keys beginning with
// "incident:" are the Service's own; callers use others ("announce:"+view
// id).
//
// # One lock
//
// The Service's lock of an incident is the only one there is: callers
// take none. Every method that changes an incident holds it while it
// works on it (Announce from its first write on, when the incident's id is
// known; AddUpdate, Resolve, Finish and RetryStatusPage throughout), so
// that on one Service the steps of an incident never interleave: a
// resolve that finds the incident resolved already does not repeat the
// edit another one is making, an update does not post an announcement a
// Retry is posting, nor a status page update after its resolution. (A
// Desk runs an incident's steps on the Service of its environment, always
// the same one.) Across replicas, the store's transactions and idempotency
// keys keep the records right; a Slack edit may then be made twice, with
// the same text.
type Service struct {
	store   Store
	slack   Announcer
	sp      StatusPageClient
	tmpl    Renderer
	escape  func(string) string
	mention func(string) string
	redact  redact.Redactor
	loc     *time.Location
	now     func() time.Time
	log     *zap.Logger

	// locks serialize the steps of one incident within the process.
	locks keylock.Map[int64]
}

// lock locks incident id's steps and returns the unlock.
func (s *Service) lock(id int64) (unlock func()) { return s.locks.Lock(id) }

// NewService checks o and returns a Service.
func NewService(o Options) (*Service, error) {
	var missing []error
	if o.Store == nil {
		missing = append(missing, errors.New("incident service: Store is required"))
	}
	if o.Slack == nil {
		missing = append(missing, errors.New("incident service: Slack is required"))
	}
	if o.Templates == nil {
		missing = append(missing, errors.New("incident service: Templates is required"))
	}
	if o.Escape == nil {
		missing = append(missing, errors.New("incident service: Escape is required"))
	}
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}
	s := &Service{store: o.Store, slack: o.Slack, sp: o.StatusPage, tmpl: o.Templates, escape: o.Escape,
		mention: o.Mention, redact: o.Redactor, loc: o.Location, now: o.Now, log: o.Logger}
	if s.mention == nil {
		s.mention = func(id string) string {
			if slackUserID.MatchString(id) {
				return "<@" + id + ">"
			}
			return s.escape(id)
		}
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	return s, nil
}

var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// Keys of the Service's own writes.
func messageKey(id int64) string       { return fmt.Sprintf("incident:%d:message", id) }
func messageEditedKey(id int64) string { return fmt.Sprintf("incident:%d:message:resolved", id) }
func statusPageKey(id int64, what string) string {
	return fmt.Sprintf("incident:%d:statuspage:%s", id, what)
}

// Announce runs the announcement: record the incident (idempotent on key;
// its user impact and what redacted first, Options.Redactor),
// post the runbook's announcement in inc.Channel, record the message, then
// raise it on the status page. A zero AnnouncedAt is now; a zero From is
// AnnouncedAt; without a status page client, StatusPage.Enabled is false.
//
// created is false when inc's anomaly already had an open incident: that
// incident is returned, its unfinished steps done. A status page failure
// is not an error: the incident is returned with StatusPage.LastError set
// (and a statuspage_failed entry); see RetryStatusPage.
//
// An error with a zero incident means it was not recorded (invalid input,
// the store). An error with the recorded incident means Slack (or the
// store, recording a step) failed: the status page step was still done,
// and the announcement is still to be posted (AnnouncementLags); calling
// Announce again with the same key, or Finish, goes on from there.
func (s *Service) Announce(ctx context.Context, inc Incident, key string) (_ Incident, created bool, _ error) {
	inc.UserImpact, inc.What = s.redact.Text(inc.UserImpact), s.redact.Text(inc.What)
	if inc.AnnouncedAt.IsZero() {
		inc.AnnouncedAt = s.now()
	}
	if inc.From.IsZero() {
		inc.From = inc.AnnouncedAt
	}
	if s.sp == nil {
		inc.StatusPage.Enabled = false
	}
	inc, created, err := s.store.Announce(ctx, inc, key)
	if err != nil {
		return Incident{}, false, fmt.Errorf("announce incident: %w", opsbot.NotRecorded(err))
	}
	if !created {
		s.log.Info("incident already announced for this anomaly",
			zap.Int64("incident", inc.ID), zap.Int64("anomaly", inc.AnomalyID))
	}
	unlock := s.lock(inc.ID)
	defer unlock()
	// Read again under the lock: a Finish may have done steps meanwhile.
	if now, err := s.store.Get(ctx, inc.ID); err == nil {
		inc = now
	}
	inc, _, err = s.finish(ctx, inc)
	return inc, created, err
}

// Finish does what is left of the steps of incident id: it posts the
// announcement of an open incident that has none, edits the announcement
// of a resolved one that does not show the resolution yet
// (AnnouncementLags), and brings the status page in step (NeedsSync). It
// is what a Retry does after Announce or Resolve failed half-way, and does
// nothing when nothing lags. The outcome says what it did
// (FinishOutcome.Finished) and what failed again (StepErr): as in
// Announce, a status page failure is recorded on the incident, not
// returned, and a Slack failure does not stop the status page step. The
// error is for an incident that could not be read (ErrNotFound).
func (s *Service) Finish(ctx context.Context, id int64) (FinishOutcome, error) {
	unlock := s.lock(id)
	defer unlock()
	inc, err := s.store.Get(ctx, id)
	if err != nil {
		return FinishOutcome{}, err
	}
	inc, fin, err := s.finish(ctx, inc)
	return FinishOutcome{Incident: inc, Finished: fin, StepErr: err}, nil
}

// FinishOutcome is what Finish did.
type FinishOutcome struct {
	// Incident is the incident afterwards.
	Incident Incident
	// Finished says which of the steps left undone were done.
	Finished Finished
	// StepErr is the failure of a step (Slack's, or the store's recording
	// it): the step is still to be done (Incident.AnnouncementLags).
	StepErr error
}

// Finished says what a call did of the steps an earlier call left undone
// (a failure, a crash).
type Finished struct {
	// Lagged: something was left to do when the call began: the
	// announcement (AnnouncementLags) or the status page (NeedsSync).
	Lagged bool
	// Posted: the announcement of the open incident is posted now.
	Posted bool
	// Edited: the announcement now shows the resolution.
	Edited bool
	// StatusPage: the status page is in step now (StatusPage.State says
	// how: open, resolved, or skipped).
	StatusPage bool
}

// finish does the Slack step inc lacks, then the status page steps,
// whether or not the Slack step failed: the status page does not depend on
// Slack. The errors are returned together. It says which steps it did.
func (s *Service) finish(ctx context.Context, before Incident) (Incident, Finished, error) {
	var slackErr error
	inc := before
	switch {
	case !inc.AnnouncementLags():
	case inc.State == Open:
		inc, slackErr = s.postAnnouncement(ctx, inc)
		if slackErr == nil && inc.State == Resolved && inc.AnnouncementLags() {
			// Resolved on another replica while this one was posting
			// (which found no message to edit): show it now.
			inc, slackErr = s.editAnnouncement(ctx, inc)
		}
	case inc.State == Resolved:
		inc, slackErr = s.editAnnouncement(ctx, inc)
	}
	inc, err := s.syncStatusPage(ctx, inc)
	announced := before.AnnouncementLags() && !inc.AnnouncementLags()
	fin := Finished{
		Lagged:     before.AnnouncementLags() || before.StatusPage.NeedsSync(before.State),
		Posted:     announced && inc.State == Open,
		Edited:     announced && inc.State == Resolved,
		StatusPage: before.StatusPage.NeedsSync(before.State) && !inc.StatusPage.NeedsSync(inc.State),
	}
	return inc, fin, errors.Join(slackErr, err)
}

// postAnnouncement posts the announcement of an open incident that has no
// message yet, and records it.
func (s *Service) postAnnouncement(ctx context.Context, inc Incident) (Incident, error) {
	if inc.MessageTS != "" || inc.State != Open {
		return inc, nil
	}
	text, err := s.MessageText(inc)
	if err != nil {
		return inc, err
	}
	ts, err := s.slack.Post(ctx, inc.Channel, text)
	if err != nil {
		return inc, fmt.Errorf("post the announcement of incident %d: %w", inc.ID, err)
	}
	got, err := s.store.SetMessage(ctx, inc.ID, inc.Channel, ts, text, messageKey(inc.ID))
	if errors.Is(err, opsbot.ErrConflict) {
		// Another call posted it at the same time, and recorded its message
		// first: that one is the incident's.
		got, err = s.store.Get(ctx, inc.ID)
	}
	if err != nil {
		return s.unrecordedAnnouncement(ctx, inc, ts, err)
	}
	if got.MessageTS != ts {
		s.log.Warn("the announcement was posted twice; the other message is the incident's",
			zap.Int64("incident", inc.ID), zap.String("channel", inc.Channel),
			zap.String("duplicate_ts", ts), zap.String("ts", got.MessageTS))
	} else {
		s.log.Info("incident announced", zap.Int64("incident", inc.ID), zap.String("channel", inc.Channel),
			zap.String("ts", ts))
	}
	return got, nil
}

// cleanupTimeout bounds what is done after a write failed so that no post
// is left without its record: reading the record again, deleting the post.
// It runs on a context that is not cancelled with the caller's (a
// shutdown's cancellation may be what made the write fail).
const cleanupTimeout = 10 * time.Second

// unrecordedAnnouncement handles the announcement of inc posted as ts
// whose record failed (recErr): no announcement may stay in Slack that no
// incident records, or a retry would post a second one. The incident is
// read again, in case the record was made after all (a commit whose answer
// was lost); otherwise the post is deleted and the incident is returned
// still lagging (AnnouncementLags), with recErr wrapped with
// opsbot.ErrNotRecorded: a retry posts it.
func (s *Service) unrecordedAnnouncement(ctx context.Context, inc Incident, ts string, recErr error) (Incident, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	log := s.log.With(zap.Int64("incident", inc.ID), zap.String("channel", inc.Channel), zap.String("ts", ts))
	if got, err := s.store.Get(cctx, inc.ID); err == nil && got.MessageTS == ts {
		log.Info("incident announced (its record was made despite an error)", zap.NamedError("record_error", recErr))
		return got, nil
	}
	if err := s.slack.Delete(cctx, inc.Channel, ts); err != nil && !errors.Is(err, opsbot.ErrNotFound) {
		// The one case where an announcement outlives its failed record:
		// say where it is, so that it can be removed by hand.
		log.Error("could not record the announcement, nor delete it: it is left in the channel",
			zap.NamedError("record_error", recErr), zap.Error(err))
		return inc, fmt.Errorf("record the announcement of incident %d (posted as %s): %w (and deleting it: %w)",
			inc.ID, ts, recErr, err)
	}
	log.Warn("could not record the announcement; deleted it", zap.Error(recErr))
	return inc, fmt.Errorf("record the announcement of incident %d (deleted it): %w", inc.ID, opsbot.NotRecorded(recErr))
}

// AddUpdate records an update, its text redacted (Options.Redactor), and
// posts it in the incident's thread (unless u.ThreadTS says it is a
// message of the thread already), and on the
// status page when u.Public and the incident is open there. A zero u.At is
// now. A status page failure is recorded, not returned (see Announce).
// Calling it again with the same key posts the update in the thread again
// (the first post is not recorded) but not on the status page.
func (s *Service) AddUpdate(ctx context.Context, id int64, u Update, key string) (Incident, Update, error) {
	u.Text = s.redact.Text(u.Text)
	if u.At.IsZero() {
		u.At = s.now()
	}
	unlock := s.lock(id)
	defer unlock()
	inc, upd, err := s.store.AddUpdate(ctx, id, u, key)
	if err != nil {
		return Incident{}, Update{}, fmt.Errorf("update incident %d: %w", id, err)
	}
	if upd.ThreadTS == "" {
		if inc, err = s.postAnnouncement(ctx, inc); err != nil {
			return inc, upd, err
		}
		text, err := s.tmpl.Render(templates.IncidentUpdate, templates.Update{
			Text: s.escape(upd.Text), By: s.mention(upd.By), At: FormatTime(upd.At, s.loc)})
		if err != nil {
			return inc, upd, err
		}
		if err := s.slack.Reply(ctx, inc.Channel, inc.MessageTS, text); err != nil {
			return inc, upd, fmt.Errorf("post update %d of incident %d: %w", upd.Seq, id, err)
		}
	}
	if !upd.Public || s.sp == nil || inc.StatusPage.State != StatusPageOpen {
		if upd.Public && inc.StatusPage.Enabled {
			s.log.Info("update not posted on the status page: the status page incident is not open",
				zap.Int64("incident", id), zap.String("state", string(inc.StatusPage.State)))
		}
		return inc, upd, nil
	}
	tl, err := s.store.Timeline(ctx, id)
	if err != nil {
		return inc, upd, err
	}
	for _, e := range tl {
		if e.Kind == KindStatusPageUpdated && e.Data.UpdateSeq == upd.Seq {
			return inc, upd, nil // posted by the first call
		}
	}
	if callErr := s.sp.Update(ctx, inc.StatusPage.IncidentID, upd.Text); callErr != nil {
		inc, _, err = s.recordFailure(ctx, inc, OpUpdate, "", callErr)
		return inc, upd, err
	}
	inc, _, err = s.record(ctx, inc, StatusPageEvent{Kind: KindStatusPageUpdated, UpdateSeq: upd.Seq},
		statusPageKey(id, fmt.Sprintf("update:%d", upd.Seq)))
	return inc, upd, err
}

// Resolve resolves the incident at until (a zero until is now),
// idempotent on key, and, when this call resolved it (Changed), edits the
// announcement (its text as posted, then "\n", then the resolved suffix:
// "✅ Resolved\nUntil: {time}") and records the edit, posts the closing
// line in the thread and resolves the status page incident.
//
// Resolving an incident resolved already (by another call) changes
// nothing, whatever until says: Changed is false, and the steps a failure
// left undone are done (the edit of the announcement, the status page:
// ResolveOutcome.Finished says which). Of two resolves at once exactly one
// changes it. Calling Resolve again with the key of the call that resolved
// it is that call again (Changed): it does the steps left; the edit once
// recorded is not done again; the closing line may be posted twice.
//
// A Slack failure does not stop the status page: every step is tried and
// their failures are ResolveOutcome.StepErr, with the resolved incident
// (whose AnnouncementLags says whether the edit is still to be done); a
// status page failure is recorded on the incident, not returned.
//
// The error is for a resolution that did not happen: an until before the
// incident's start or in the future (*UntilError), another invalid input
// (*opsbot.ValidationError), no such incident (ErrNotFound), the store.
func (s *Service) Resolve(ctx context.Context, id int64, until time.Time, by, key string) (ResolveOutcome, error) {
	now := s.now()
	if until.IsZero() {
		until = now
	}
	unlock := s.lock(id)
	defer unlock()
	cur, err := s.store.Get(ctx, id)
	if err != nil {
		return ResolveOutcome{}, fmt.Errorf("resolve incident %d: %w", id, err)
	}
	if cur.State == Resolved {
		// Nothing changes, so the time given does not matter: the store is
		// asked with the one recorded, so that a call repeated with the key
		// that resolved the incident is told so and does its steps.
		until = cur.Until
	} else if err := ValidateResolve(cur, until, by, now); err != nil {
		return ResolveOutcome{}, resolveError(cur, until, err)
	}
	inc, changed, err := s.store.Resolve(ctx, id, until, by, key)
	if err != nil {
		return ResolveOutcome{}, fmt.Errorf("resolve incident %d: %w", id, resolveError(cur, until, err))
	}
	if !changed {
		inc, fin, err := s.finish(ctx, inc)
		return ResolveOutcome{Incident: inc, Finished: fin, StepErr: err}, nil
	}
	if inc.MessageTS == "" {
		s.log.Warn("resolved an incident whose announcement was never posted", zap.Int64("incident", id))
		inc, err = s.syncStatusPage(ctx, inc)
		return ResolveOutcome{Incident: inc, Changed: true, StepErr: err}, nil
	}
	inc, editErr := s.editAnnouncement(ctx, inc)
	closingErr := s.postClosing(ctx, inc)
	inc, err = s.syncStatusPage(ctx, inc)
	return ResolveOutcome{Incident: inc, Changed: true, StepErr: errors.Join(editErr, closingErr, err)}, nil
}

// ResolveOutcome is what Resolve did.
type ResolveOutcome struct {
	// Incident is the incident afterwards: resolved.
	Incident Incident
	// Changed: this call resolved the incident. False: it was resolved
	// already (Incident.Until and ResolvedBy say when and by whom);
	// nothing changed but the steps left undone (Finished).
	Changed bool
	// Finished says, for an incident resolved already, which steps an
	// earlier call left undone were done now.
	Finished Finished
	// StepErr is the failure of a step after the resolution (Slack's, or
	// the store's recording it): the incident is resolved; what the step
	// left undone is still to be done (Incident.AnnouncementLags; the
	// status page's in Incident.StatusPage).
	StepErr error
}

// UntilError is a resolution refused for its time: the end of the impact
// is before the incident's start (BeforeStart), or in the future. It
// wraps the *opsbot.ValidationError that says so.
type UntilError struct {
	IncidentID int64
	// Until is the end given; From the incident's start.
	Until, From time.Time
	// BeforeStart: Until is before From. Otherwise Until is later than
	// now plus MaxClockSkew.
	BeforeStart bool
	Err         error
}

func (e *UntilError) Error() string {
	if e.BeforeStart {
		return fmt.Sprintf("incident #%d: the end (%s) must not be before the start (%s)", e.IncidentID,
			e.Until.UTC().Format(time.RFC3339), e.From.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("incident #%d: the end (%s) is in the future", e.IncidentID, e.Until.UTC().Format(time.RFC3339))
}

// Unwrap returns the validation error.
func (e *UntilError) Unwrap() error { return e.Err }

// resolveError makes a problem with the end of the impact an *UntilError.
func resolveError(inc Incident, until time.Time, err error) error {
	var ve *opsbot.ValidationError
	if !errors.As(err, &ve) || ve.Problem("until") == "" {
		return err
	}
	return &UntilError{IncidentID: inc.ID, Until: until, From: inc.From, BeforeStart: until.Before(inc.From), Err: err}
}

// editAnnouncement edits the announcement of a resolved incident to show
// the resolution, unless that edit is recorded already, and records it.
func (s *Service) editAnnouncement(ctx context.Context, inc Incident) (Incident, error) {
	if inc.State != Resolved || inc.MessageTS == "" || inc.MessageResolved {
		return inc, nil
	}
	text, err := s.MessageText(inc)
	if err != nil {
		return inc, err
	}
	if err := s.slack.Edit(ctx, inc.Channel, inc.MessageTS, text); err != nil {
		s.log.Warn("could not edit the announcement", zap.Int64("incident", inc.ID), zap.Error(err))
		return inc, fmt.Errorf("edit the announcement of incident %d: %w", inc.ID, err)
	}
	got, err := s.store.SetMessageResolved(ctx, inc.ID, text, messageEditedKey(inc.ID))
	if err != nil {
		return inc, fmt.Errorf("record the edit of the announcement of incident %d: %w", inc.ID, err)
	}
	return got, nil
}

// postClosing posts the closing line in the incident's thread.
func (s *Service) postClosing(ctx context.Context, inc Incident) error {
	closing, err := s.tmpl.Render(templates.IncidentClosing, templates.Closing{
		Duration: FormatDuration(inc.Duration()), From: FormatTime(inc.From, s.loc),
		Until: FormatTime(inc.Until, s.loc), ResolvedBy: s.mention(inc.ResolvedBy)})
	if err != nil {
		return err
	}
	if err := s.slack.Reply(ctx, inc.Channel, inc.MessageTS, closing); err != nil {
		return fmt.Errorf("post the closing line of incident %d: %w", inc.ID, err)
	}
	return nil
}

// ErrNoStatusPage: the incident is on the status page but the Service has
// no status page client (the configuration changed).
var ErrNoStatusPage = errors.New("no status page is configured")

// RetryStatusPage brings the status page in step with the incident: it
// creates the status page incident of an open incident (finding the one a
// lost answer created, by its key), or resolves that of a resolved one.
// Nothing is done when nothing lags (StatusPage.NeedsSync). Like Announce,
// a failure of the status page is recorded on the returned incident
// (StatusPage.LastError), not returned as an error.
func (s *Service) RetryStatusPage(ctx context.Context, id int64) (Incident, error) {
	unlock := s.lock(id)
	defer unlock()
	inc, err := s.store.Get(ctx, id)
	if err != nil {
		return Incident{}, err
	}
	if inc.StatusPage.NeedsSync(inc.State) && s.sp == nil {
		return inc, fmt.Errorf("incident %d: %w", id, ErrNoStatusPage)
	}
	return s.syncStatusPage(ctx, inc)
}

// syncStatusPage does the status page steps the incident needs, each
// recorded, until nothing lags or a step fails (recorded). Errors are the
// store's.
func (s *Service) syncStatusPage(ctx context.Context, inc Incident) (Incident, error) {
	for range 4 { // at most: find, created, resolved; one spare
		if !inc.StatusPage.NeedsSync(inc.State) {
			return inc, nil
		}
		if s.sp == nil {
			s.log.Warn("the incident is on the status page, but no status page is configured",
				zap.Int64("incident", inc.ID))
			return inc, nil
		}
		next, ok, err := s.statusPageStep(ctx, inc)
		if errors.Is(err, opsbot.ErrConflict) {
			// Another call moved the status page on meanwhile; look again.
			s.log.Info("status page step raced another", zap.Int64("incident", inc.ID), zap.Error(err))
			next, err = s.store.Get(ctx, inc.ID)
			ok = true
		}
		if err != nil {
			return inc, err
		}
		inc = next
		if !ok {
			return inc, nil
		}
	}
	return inc, nil
}

// statusPageStep does one status page call and records its outcome; ok is
// false when the call failed (and its failure was recorded).
func (s *Service) statusPageStep(ctx context.Context, inc Incident) (_ Incident, ok bool, _ error) {
	sp := inc.StatusPage
	key := sp.Key
	if key == "" {
		key = StatusPageKey(inc.ID)
	}
	switch {
	case inc.State == Open && sp.State == StatusPagePending:
		created, err := s.sp.Create(ctx, PublicIncident{Key: key, Name: StatusPageName(inc), Body: StatusPageBody(inc, s.loc)})
		if err != nil {
			return s.recordFailure(ctx, inc, OpCreate, key, err)
		}
		s.log.Info("status page incident created", zap.Int64("incident", inc.ID),
			zap.String("statuspage_id", created), zap.String("key", key))
		return s.record(ctx, inc, StatusPageEvent{Kind: KindStatusPageCreated, StatusPageID: created, Key: key},
			statusPageKey(inc.ID, "created"))

	case inc.State == Resolved && sp.State == StatusPageOpen:
		if err := s.sp.Resolve(ctx, sp.IncidentID, StatusPageResolution(inc, s.loc)); err != nil {
			return s.recordFailure(ctx, inc, OpResolve, "", err)
		}
		s.log.Info("status page incident resolved", zap.Int64("incident", inc.ID),
			zap.String("statuspage_id", sp.IncidentID))
		return s.record(ctx, inc, StatusPageEvent{Kind: KindStatusPageResolved}, statusPageKey(inc.ID, "resolved"))

	case inc.State == Resolved && sp.State == StatusPagePending:
		// Resolved before it was created: find what an attempt with a lost
		// answer (or one still in flight) made, so it is resolved too.
		found, exists, err := s.sp.Find(ctx, key)
		if err != nil {
			return s.recordFailure(ctx, inc, OpResolve, key, err)
		}
		if !exists {
			return s.record(ctx, inc, StatusPageEvent{Kind: KindStatusPageSkipped, Key: key},
				statusPageKey(inc.ID, "skipped"))
		}
		return s.record(ctx, inc, StatusPageEvent{Kind: KindStatusPageCreated, StatusPageID: found, Key: key},
			statusPageKey(inc.ID, "created"))
	}
	return inc, false, nil
}

func (s *Service) record(ctx context.Context, inc Incident, ev StatusPageEvent, key string) (Incident, bool, error) {
	ev.At = s.now()
	got, err := s.store.SetStatusPage(ctx, inc.ID, ev, key)
	if err != nil {
		return inc, false, fmt.Errorf("record %s of incident %d: %w", ev.Kind, inc.ID, err)
	}
	return got, true, nil
}

// recordFailure records a failed status page call (and the key a create
// used, if any); ok is false.
func (s *Service) recordFailure(ctx context.Context, inc Incident, op StatusPageOp, key string, callErr error) (Incident, bool, error) {
	retryable := IsRetryable(callErr)
	s.log.Warn("status page call failed", zap.Int64("incident", inc.ID), zap.String("op", string(op)),
		zap.Bool("retryable", retryable), zap.Error(callErr))
	ev := StatusPageEvent{Kind: KindStatusPageFailed, Op: op, Error: CutText(callErr.Error(), MaxErrorLen),
		Retryable: retryable, Key: key}
	got, _, err := s.record(ctx, inc, ev, "")
	if err != nil {
		return inc, false, errors.Join(fmt.Errorf("status page %s of incident %d: %w", op, inc.ID, callErr), err)
	}
	return got, false, nil
}

// MessageText is the announcement of inc as it should read in Slack now:
// the announcement as posted (inc.MessageText; before it is posted, or if
// it was not kept, the runbook's announcement rendered from the stored
// fields), then, once resolved, "\n" and the resolved suffix. The posted
// text is kept as it is: a template or time zone changed since does not
// rewrite it.
func (s *Service) MessageText(inc Incident) (string, error) {
	text := inc.MessageText
	if text == "" {
		var err error
		text, err = s.tmpl.Render(templates.IncidentAnnounce, templates.Announce{
			From:        FormatTime(inc.From, s.loc),
			UserImpact:  s.escape(oneLine(inc.UserImpact)),
			What:        s.escape(oneLine(inc.What)),
			Environment: s.escape(inc.Environment),
		})
		if err != nil {
			return "", err
		}
	}
	if inc.State != Resolved {
		return text, nil
	}
	suffix, err := s.tmpl.Render(templates.IncidentResolvedSuffix, templates.ResolvedSuffix{Until: FormatTime(inc.Until, s.loc)})
	if err != nil {
		return "", err
	}
	return text + "\n" + suffix, nil
}

// StatusPageName is the status page incident's title: the user impact on
// one line, cut to Statuspage's 255 characters. (What is for the team; the
// status page's readers are customers.)
func StatusPageName(inc Incident) string { return CutText(oneLine(inc.UserImpact), 255) }

// StatusPageBody is the first update of the status page incident.
func StatusPageBody(inc Incident, loc *time.Location) string {
	return "Since " + FormatTime(inc.From, loc) + ": " + strings.TrimRight(oneLine(inc.UserImpact), ".") +
		". Investigation in progress."
}

// StatusPageResolution is the status page incident's closing update.
func StatusPageResolution(inc Incident, loc *time.Location) string {
	return fmt.Sprintf("Resolved. The impact lasted from %s until %s (%s).",
		FormatTime(inc.From, loc), FormatTime(inc.Until, loc), FormatDuration(inc.Duration()))
}
