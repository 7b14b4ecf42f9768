package triage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/schedule"
	"go.uber.org/zap"
)

// Matcher is one label matcher of an Alertmanager silence. The silences
// opsbot creates have equality matchers only (SilenceMatchers); a silence
// read back (Silencer.Get) may have been edited by someone with any kind.
type Matcher struct {
	Name, Value string
	// IsRegex: Value is a regular expression (=~, !~).
	IsRegex bool
	// NotEqual: the matcher negates (!=, !~).
	NotEqual bool
}

// String returns the matcher in Alertmanager's syntax: name="value".
func (m Matcher) String() string {
	op := "="
	switch {
	case m.IsRegex && m.NotEqual:
		op = "!~"
	case m.IsRegex:
		op = "=~"
	case m.NotEqual:
		op = "!="
	}
	return m.Name + op + `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(m.Value) + `"`
}

// The labels SilenceMatchers treats specially.
const (
	// LabelAlertname names the alert; every silence opsbot creates has it.
	LabelAlertname = "alertname"
	// LabelNamespace scopes an alert to a namespace; a silence without it
	// silences the alert in every namespace.
	LabelNamespace = "namespace"
)

// SilenceMatchers returns the matchers of a silence for an alert with the
// given identifying labels (checks.Finding.Labels: the labels every alert
// of the finding has with the same value), one equality matcher per
// non-empty label, sorted by name.
//
// It never silences a bare alert name across namespaces by itself: without
// acrossNamespaces, the labels must include a namespace, and the error says
// so otherwise. With acrossNamespaces, the namespace matcher is left out,
// so the silence covers the alert in every namespace: the user must have
// asked for that. The labels must always include an alertname, and no
// value redacted (redact/): a silence on it would match something else.
func SilenceMatchers(labels map[string]string, acrossNamespaces bool) ([]Matcher, error) {
	if labels[LabelAlertname] == "" {
		return nil, &opsbot.ValidationError{What: "silence", Problems: []opsbot.FieldError{{
			Field: "matchers", Problem: "the alert has no alertname label: only alerts from Alertmanager can be silenced",
		}}}
	}
	if !acrossNamespaces && labels[LabelNamespace] == "" {
		return nil, &opsbot.ValidationError{What: "silence", Problems: []opsbot.FieldError{{
			Field: "matchers", Problem: fmt.Sprintf("the alert %s has no single namespace: silencing it would silence it in every namespace; widen the silence explicitly to do that", labels[LabelAlertname]),
		}}}
	}
	var ms []Matcher
	for _, name := range slices.Sorted(maps.Keys(labels)) {
		v := labels[name]
		if v == "" || (acrossNamespaces && name == LabelNamespace) {
			continue
		}
		if strings.Contains(v, "[redacted:") {
			// The value shown is not the alert's: a silence would match
			// nothing, or something else.
			return nil, &opsbot.ValidationError{What: "silence", Problems: []opsbot.FieldError{{
				Field: "matchers", Problem: fmt.Sprintf("the label %s was redacted: opsbot cannot silence on it", name),
			}}}
		}
		ms = append(ms, Matcher{Name: name, Value: v})
	}
	return ms, nil
}

// SilenceState is the state of a silence in Alertmanager.
type SilenceState string

// The states of a silence.
const (
	SilencePending SilenceState = "pending" // starts in the future
	SilenceActive  SilenceState = "active"
	SilenceExpired SilenceState = "expired"
)

// SilenceRequest asks a Silencer for a silence.
type SilenceRequest struct {
	// Matchers select the alerts (SilenceMatchers); at least one.
	Matchers []Matcher
	// EndsAt is when the silence ends; it starts now.
	EndsAt time.Time
	// CreatedBy is who asked, by name (the Slack user's name).
	CreatedBy string
	// Comment says why: the decision's conclusion and the thread's link.
	Comment string
	// Key identifies the request (the anomaly's and decision's): a
	// Silencer given the same key and matchers again returns the active
	// silence the first request created instead of creating another.
	Key string
}

// Validate checks a request before it reaches Alertmanager.
func (r SilenceRequest) Validate(now time.Time) error {
	v := opsbot.Validator{What: "silence"}
	if len(r.Matchers) == 0 {
		v.Add("matchers", "at least one matcher is needed")
	}
	for i, m := range r.Matchers {
		if m.Name == "" {
			v.Add(fmt.Sprintf("matchers[%d]", i), "the label name is empty")
		}
	}
	if !r.EndsAt.After(now) {
		v.Add("endsAt", "%s is not in the future", r.EndsAt.UTC().Format(time.RFC3339))
	}
	v.Required("createdBy", r.CreatedBy, opsbot.MaxIDLen)
	v.Required("comment", r.Comment, MaxTextLen)
	v.Required("key", r.Key, opsbot.MaxIDLen)
	if strings.ContainsAny(r.Key, "[] \t\n") {
		v.Add("key", "must not contain brackets or white space")
	}
	return v.Err()
}

// Silence is a silence as Alertmanager has it.
type Silence struct {
	ID               string
	Matchers         []Matcher
	StartsAt, EndsAt time.Time
	CreatedBy        string
	Comment          string
	State            SilenceState
}

// Silencer creates and ends silences: Alertmanager's, through its API v2.
// Errors wrap opsbot.ErrNotFound for an unknown silence and
// opsbot.ErrInvalid for a request refused as invalid.
type Silencer interface {
	// Silence creates the silence r asks for, or returns the pending or
	// active one an earlier request with the same key and matchers
	// created.
	Silence(ctx context.Context, r SilenceRequest) (Silence, error)
	// Get returns the silence with the given id, whatever its state.
	Get(ctx context.Context, id string) (Silence, error)
	// Expire ends the silence now. Expiring an expired silence is not an
	// error.
	Expire(ctx context.Context, id string) error
	// Extend moves the end of a pending or active silence to endsAt and
	// returns it. Its ID may change: Alertmanager replaces a silence it
	// cannot update in place.
	Extend(ctx context.Context, id string, endsAt time.Time) (Silence, error)
}

// ErrNoSilencer: the anomaly's environment has no Silencer (no
// Alertmanager configured for it).
var ErrNoSilencer = errors.New("silences are not configured for this environment")

// SilenceOrder asks Service.Silence for the silence of a Noise decision.
type SilenceOrder struct {
	// EndsAt is when the silence ends; it starts now.
	EndsAt time.Time
	// AcrossNamespaces widens the silence to the alert in every namespace
	// (SilenceMatchers): only when the user asked for it.
	AcrossNamespaces bool
	// By is the Slack user id of who asked (the timeline's actor); ByName
	// is their name (the silence's createdBy).
	By, ByName string
	// ThreadLink is the permalink of the anomaly's thread, for the
	// silence's comment; may be empty.
	ThreadLink string
}

// SilenceKey is the key of the silences of anomaly a's current decision
// (SilenceRequest.Key): the same decision silenced twice makes one
// silence.
func SilenceKey(a Anomaly) string {
	if a.Decision == nil {
		return fmt.Sprintf("anomaly-%d", a.ID)
	}
	return fmt.Sprintf("anomaly-%d-%d", a.ID, a.Decision.DecidedAt.UnixNano())
}

// Silence silences the alerts of anomaly id's current decision, which must
// be Noise: it asks the environment's Silencer for a silence with the
// anomaly's matchers (SilenceMatchers), created by o.ByName, whose comment
// is the decision's conclusion and the thread's link, then records it on
// the decision (Store.RecordSilence, idempotent on key).
//
// The decision is recorded before and is never changed by a failure here:
// a silence that could not be made is an error (the Silencer's, wrapped),
// and a silence made but not recorded is opsbot.ErrNotRecorded with the
// silence returned; the same call again finds that silence rather than
// making another. Other errors: ErrNotFound, ErrNoSilencer,
// opsbot.ErrConflict (the decision is not Noise) and a
// *opsbot.ValidationError (the anomaly has no labels to silence, or the
// order is invalid).
func (s *Service) Silence(ctx context.Context, id int64, o SilenceOrder, key string) (Anomaly, Silence, error) {
	unlock := s.lock(id)
	defer unlock()
	a, err := s.store.Get(ctx, id)
	if err != nil {
		return Anomaly{}, Silence{}, fmt.Errorf("silencing anomaly %d: %w", id, err)
	}
	silencer := s.silence[a.Environment]
	if silencer == nil {
		return a, Silence{}, fmt.Errorf("silencing anomaly %d in %s: %w", id, a.Environment, ErrNoSilencer)
	}
	if d := a.CurrentDecision(); d != Noise {
		return a, Silence{}, fmt.Errorf("silencing anomaly %d: %w: only a Noise decision is silenced, its decision is %s",
			id, opsbot.ErrConflict, d.Label())
	}
	v := opsbot.Validator{What: "silence"}
	v.Required("by", o.By, opsbot.MaxIDLen)
	if err := v.Err(); err != nil {
		return a, Silence{}, err
	}
	matchers, err := SilenceMatchers(a.Labels, o.AcrossNamespaces)
	if err != nil {
		return a, Silence{}, err
	}
	comment := a.Decision.Conclusion
	if o.ThreadLink != "" {
		comment += "\n" + s.redact.Text(o.ThreadLink)
	}
	claim, err := s.claimSilence(ctx, SilenceKey(a))
	if err != nil {
		return a, Silence{}, fmt.Errorf("silencing anomaly %d: %w", id, err)
	}
	if claim.done {
		return s.recordedSilence(ctx, id, silencer)
	}
	made := false
	defer func() { claim.end(made) }()
	sil, err := silencer.Silence(ctx, SilenceRequest{
		Matchers:  matchers,
		EndsAt:    o.EndsAt,
		CreatedBy: s.redact.Text(opsbot.CleanText(o.ByName)),
		Comment:   comment,
		Key:       SilenceKey(a),
	})
	if err != nil {
		return a, Silence{}, fmt.Errorf("silencing anomaly %d: %w", id, err)
	}
	mark := SilenceMark{ID: sil.ID, EndsAt: sil.EndsAt, Length: sil.EndsAt.Sub(sil.StartsAt).Round(time.Second)}
	recorded, err := s.store.RecordSilence(ctx, id, mark, o.By, s.now(), opKey("silence", key))
	if err != nil {
		return a, sil, fmt.Errorf("recording silence %s on anomaly %d: %w", sil.ID, id, opsbot.NotRecorded(err))
	}
	made = true
	s.log.Info("silenced", zap.Int64("anomaly", id), zap.String("silence", sil.ID), zap.Time("endsAt", sil.EndsAt))
	return recorded, sil, nil
}

const (
	// silenceLease is how long a call holds the right to create a
	// decision's silence: longer than a Silencer takes (silence's
	// DefaultTimeout), shorter than a Slack handler's deadline. A holder
	// that dies frees it when it runs out.
	silenceLease = 20 * time.Second
	// silenceClaimPoll is how often a call waiting for another's silence
	// asks again.
	silenceClaimPoll = 100 * time.Millisecond
)

// silenceClaim is a call's hold on creating a decision's silence.
type silenceClaim struct {
	// done: another call made and recorded the silence.
	done bool
	// end ends the hold: done when the silence was made and recorded,
	// else released for the next call (a Retry) at once.
	end func(made bool)
}

// claimSilence takes the right to create the silence of key
// (SilenceKey) across replicas, waiting while another call holds it,
// until it is this call's or that call made the silence (done). Without
// SilenceClaims, it only returns.
func (s *Service) claimSilence(ctx context.Context, key string) (silenceClaim, error) {
	if s.claims == nil {
		return silenceClaim{end: func(bool) {}}, nil
	}
	ck := "silence/" + key
	tick := time.NewTicker(silenceClaimPoll)
	defer tick.Stop()
	for {
		now := s.now()
		c, err := s.claims.Take(ctx, ck, s.holder, now, now.Add(silenceLease))
		switch {
		case err != nil:
			return silenceClaim{}, fmt.Errorf("claiming the silence: %w", err)
		case c == schedule.Done:
			return silenceClaim{done: true}, nil
		case c == schedule.Taken:
			return silenceClaim{end: func(made bool) {
				// Not the caller's context: the hold must end even when
				// the call ran out of time.
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), silenceLease)
				defer cancel()
				var err error
				if made {
					err = s.claims.Finish(ctx, ck, s.holder)
				} else {
					at := s.now()
					_, err = s.claims.Take(ctx, ck, s.holder, at, at) // a lease that has run out
				}
				if err != nil {
					s.log.Warn("could not end the hold on a silence; it runs out by itself", zap.String("claim", ck), zap.Error(err))
				}
			}}, nil
		}
		s.log.Debug("another call is making the silence; waiting", zap.String("claim", ck))
		select {
		case <-ctx.Done():
			return silenceClaim{}, fmt.Errorf("waiting for another call making the silence: %w", context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// recordedSilence returns anomaly id with the silence its decision
// records, made by another call.
func (s *Service) recordedSilence(ctx context.Context, id int64, silencer Silencer) (Anomaly, Silence, error) {
	a, err := s.store.Get(ctx, id)
	if err != nil {
		return Anomaly{}, Silence{}, fmt.Errorf("silencing anomaly %d: %w", id, err)
	}
	if a.Decision == nil || a.Decision.Silence == nil {
		return a, Silence{}, fmt.Errorf("silencing anomaly %d: %w: its decision changed while its silence was made", id, opsbot.ErrConflict)
	}
	sil, err := silencer.Get(ctx, a.Decision.Silence.ID)
	if err != nil {
		return a, Silence{}, fmt.Errorf("silencing anomaly %d: reading silence %s: %w", id, a.Decision.Silence.ID, err)
	}
	return a, sil, nil
}

// ErrNoSilence: the anomaly's current decision has no silence.
var ErrNoSilence = errors.New("the decision has no silence")

// ErrSilenceEnded: the decision's silence has ended (expired, or ran out):
// there is nothing to extend.
var ErrSilenceEnded = errors.New("the silence has ended")

// decisionSilence returns anomaly id, the silence on its current decision
// and its environment's Silencer; what an error says starts with doing.
func (s *Service) decisionSilence(ctx context.Context, id int64, doing string) (Anomaly, SilenceMark, Silencer, error) {
	a, err := s.store.Get(ctx, id)
	if err != nil {
		return Anomaly{}, SilenceMark{}, nil, fmt.Errorf("%s of anomaly %d: %w", doing, id, err)
	}
	if a.Decision == nil || a.Decision.Silence == nil {
		return a, SilenceMark{}, nil, fmt.Errorf("%s of anomaly %d: %w", doing, id, ErrNoSilence)
	}
	silencer := s.silence[a.Environment]
	if silencer == nil {
		return a, SilenceMark{}, nil, fmt.Errorf("%s of anomaly %d in %s: %w", doing, id, a.Environment, ErrNoSilencer)
	}
	return a, *a.Decision.Silence, silencer, nil
}

// ranOut records that silence m of anomaly id was seen expired in
// Alertmanager, by opsbot, and returns the anomaly after.
func (s *Service) ranOut(ctx context.Context, id int64, m SilenceMark, key string) (Anomaly, error) {
	a, err := s.store.ChangeSilence(ctx, id, SilenceChange{Kind: KindSilenceRanOut, From: m.ID}, opsbot.ActorBot, s.now(), opKey("silence-ran-out", key))
	if err != nil {
		return a, fmt.Errorf("recording that silence %s of anomaly %d ran out: %w", m.ID, id, opsbot.NotRecorded(err))
	}
	s.log.Info("silence ran out", zap.Int64("anomaly", id), zap.String("silence", m.ID))
	return a, nil
}

// ExpireSilence ends the silence recorded on anomaly id's current decision
// now, through the environment's Silencer, and records it: a
// silence_expired entry by by. A silence Alertmanager already has expired
// is recorded as ran out (silence_ran_out, by opsbot) and not expired
// again. The anomaly returned has the silence as recorded after
// (Decision.Silence.EndedBy says which); ended is true when this call saw
// it end, false when it was recorded ended before (nothing is done). Errors: ErrNotFound, ErrNoSilencer, ErrNoSilence, the
// Silencer's wrapped, and opsbot.ErrNotRecorded when the silence ended
// but the store failed.
func (s *Service) ExpireSilence(ctx context.Context, id int64, by, key string) (_ Anomaly, ended bool, _ error) {
	unlock := s.lock(id)
	defer unlock()
	a, m, silencer, err := s.decisionSilence(ctx, id, "expiring the silence")
	if err != nil {
		return a, false, err
	}
	if m.Ended() {
		return a, false, nil
	}
	cur, err := silencer.Get(ctx, m.ID)
	if err != nil {
		return a, false, fmt.Errorf("expiring silence %s of anomaly %d: %w", m.ID, id, err)
	}
	if cur.State == SilenceExpired {
		a, err := s.ranOut(ctx, id, m, key)
		return a, err == nil, err
	}
	if err := silencer.Expire(ctx, m.ID); err != nil {
		return a, false, fmt.Errorf("expiring silence %s of anomaly %d: %w", m.ID, id, err)
	}
	a, err = s.store.ChangeSilence(ctx, id, SilenceChange{Kind: KindSilenceExpired, From: m.ID}, by, s.now(), opKey("silence-expire", key))
	if err != nil {
		return a, false, fmt.Errorf("recording the expiry of silence %s of anomaly %d: %w", m.ID, id, opsbot.NotRecorded(err))
	}
	s.log.Info("silence expired", zap.Int64("anomaly", id), zap.String("silence", m.ID))
	return a, true, nil
}

// ExtendSilence extends the silence recorded on anomaly id's current
// decision by the length it was made for, from its recorded end, through
// the environment's Silencer, and records the silence after (its id may
// change) with its extension counted: a silence_extended entry by by. The
// new end must not be after latest (zero: no bound), else a
// *opsbot.ValidationError says so and nothing changes.
//
// It returns the anomaly and the silence after. Idempotent on key: the
// same key again extends nothing more and returns them as they are. A silence Alertmanager has expired is recorded as
// ran out and is ErrSilenceEnded, as is one recorded ended. Other errors:
// ErrNotFound, ErrNoSilencer, ErrNoSilence, opsbot.ErrConflict (the
// decision changed meanwhile), the Silencer's wrapped, and
// opsbot.ErrNotRecorded when Alertmanager extended it but the store
// failed (the same key again extends it to the same end, and records it).
func (s *Service) ExtendSilence(ctx context.Context, id int64, by string, latest time.Time, key string) (Anomaly, Silence, error) {
	unlock := s.lock(id)
	defer unlock()
	a, m, silencer, err := s.decisionSilence(ctx, id, "extending the silence")
	if err != nil {
		return a, Silence{}, err
	}
	k := opKey("silence-extend", key)
	if used, err := s.store.KeyUsed(ctx, k); err != nil {
		return a, Silence{}, fmt.Errorf("extending the silence of anomaly %d: %w", id, err)
	} else if used {
		cur, err := silencer.Get(ctx, m.ID)
		return a, cur, err
	}
	if m.Ended() {
		return a, Silence{}, fmt.Errorf("extending silence %s of anomaly %d: %w", m.ID, id, ErrSilenceEnded)
	}
	cur, err := silencer.Get(ctx, m.ID)
	if err != nil {
		return a, Silence{}, fmt.Errorf("extending silence %s of anomaly %d: %w", m.ID, id, err)
	}
	if cur.State == SilenceExpired {
		if a, err = s.ranOut(ctx, id, m, key); err != nil {
			return a, cur, err
		}
		return a, cur, fmt.Errorf("extending silence %s of anomaly %d: %w", m.ID, id, ErrSilenceEnded)
	}
	length := m.Length
	if length <= 0 {
		length = cur.EndsAt.Sub(cur.StartsAt).Round(time.Second)
	}
	end := m.EndsAt.Add(length)
	if !latest.IsZero() && end.After(latest) {
		return a, cur, &opsbot.ValidationError{What: "silence", Problems: []opsbot.FieldError{{Field: "endsAt",
			Problem: fmt.Sprintf("extended by %s it would end at %s, later than the longest silence allowed (until %s)",
				LengthText(length), end.UTC().Format("2006-01-02 15:04 UTC"), latest.UTC().Format("2006-01-02 15:04 UTC"))}}}
	}
	sil, err := silencer.Extend(ctx, m.ID, end)
	if err != nil {
		return a, cur, fmt.Errorf("extending silence %s of anomaly %d: %w", m.ID, id, err)
	}
	a, err = s.store.ChangeSilence(ctx, id, SilenceChange{Kind: KindSilenceExtended, From: m.ID, ID: sil.ID, EndsAt: sil.EndsAt}, by, s.now(), k)
	if err != nil {
		return a, sil, fmt.Errorf("recording the extension of silence %s of anomaly %d: %w", m.ID, id, opsbot.NotRecorded(err))
	}
	s.log.Info("silence extended", zap.Int64("anomaly", id), zap.String("silence", sil.ID), zap.Time("endsAt", sil.EndsAt))
	return a, sil, nil
}

// SilenceChange is a change to the silence recorded on a decision
// (Store.ChangeSilence).
type SilenceChange struct {
	// Kind is KindSilenceExtended, KindSilenceExpired or
	// KindSilenceRanOut.
	Kind Kind
	// From is the id of the silence changed: the decision's.
	From string
	// ID and EndsAt are the silence after an extension (its id may
	// change); unused otherwise.
	ID     string
	EndsAt time.Time
}

// Validate checks a change given to Store.ChangeSilence.
func (c SilenceChange) Validate() error {
	v := opsbot.Validator{What: "silence change"}
	switch c.Kind {
	case KindSilenceExtended:
		v.Required("id", c.ID, opsbot.MaxIDLen)
		v.Time("endsAt", c.EndsAt)
	case KindSilenceExpired, KindSilenceRanOut:
	default:
		v.Add("kind", "want %s, %s or %s, got %q", KindSilenceExtended, KindSilenceExpired, KindSilenceRanOut, c.Kind)
	}
	v.Required("from", c.From, opsbot.MaxIDLen)
	return v.Err()
}

// LengthText writes a silence's length in days or hours when it is whole
// ones ("7 days", "2 hours"), else as Go does ("90m0s").
func LengthText(d time.Duration) string {
	const day = 24 * time.Hour
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d > 0 && d%day == 0:
		return plural(int64(d/day), "day")
	case d > 0 && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	}
	return d.String()
}
