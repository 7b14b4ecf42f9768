package triage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/internal/keylock"
	"github.com/opsbot/opsbot/redact"
	"github.com/opsbot/opsbot/schedule"
	"go.uber.org/zap"
)

// Threads is where anomalies are investigated: one chat thread per
// anomaly, whose root message shows the anomaly as it is now. The Slack
// adapter implements it (bot), rendering the domain values it is given;
// its errors are its own (the Service says which anomaly they concern).
type Threads interface {
	// PostRoot posts the root message of a's thread (a has none yet) and
	// returns where it is, showing m: what was decided the last time
	// a's fingerprint was investigated, and its tips.
	PostRoot(ctx context.Context, a Anomaly, m Memory) (channel, ts string, err error)
	// DeleteRoot deletes a root message PostRoot posted that lost the race
	// to be its anomaly's thread. A message already gone is an error
	// matching opsbot.ErrNotFound.
	DeleteRoot(ctx context.Context, channel, ts string) error
	// UpdateRoot shows a, as it is now, in its root message, with m as
	// PostRoot shows it.
	UpdateRoot(ctx context.Context, a Anomaly, m Memory) error
	// ReplyDecision posts rec, just recorded, in a's thread.
	ReplyDecision(ctx context.Context, a Anomaly, rec DecisionRecord) error
	// ReplySeenAgain posts a sighting of a (r) in its thread.
	ReplySeenAgain(ctx context.Context, a Anomaly, r Recurrence) error
	// ReplyEscalated posts in a's thread that it came back too often after
	// its decision and was reopened (reason: the recurrence, as
	// Recurrence.String says it, recorded with the escalation): the ops
	// rotation is told.
	ReplyEscalated(ctx context.Context, a Anomaly, reason string) error
}

// ServiceOptions are a Service's dependencies and settings.
type ServiceOptions struct {
	// Store keeps the anomalies. Required.
	Store Store
	// Threads posts the anomalies' threads. Required.
	Threads Threads
	// Recurrence says when a sighting escalates (zero fields: the
	// defaults).
	Recurrence RecurrencePolicy
	// Now is the clock of sightings (default time.Now).
	Now func() time.Time
	// Redactor takes secrets out of what people and checks write before
	// it is stored or posted: anomaly titles, details and fingerprints,
	// and a decision's texts (config's redaction block). The zero
	// Redactor redacts every kind, emails included.
	Redactor redact.Redactor
	// Silencers make the silences of Noise decisions, by environment
	// (Anomaly.Environment); an environment without one cannot silence.
	Silencers map[string]Silencer
	// SilenceClaims, if set, lets one call at a time, across replicas,
	// create a decision's silence (Service.Silence): store.DB's leases.
	// Without it, only the calls within this process are serialized.
	SilenceClaims schedule.Claimer
	// Logger may be nil.
	Logger *zap.Logger
}

// Service runs the triage of anomalies: opening an anomaly with its one
// thread, recording decisions, and the sightings of the checklist's
// findings. It records each step in the Store, then tells the anomaly's
// thread through Threads. It is safe for concurrent use.
//
// The steps on one anomaly (opening its thread, deciding) are serialized
// within the Service; across replicas, the Store's compare-and-set
// (LinkThread) and version rules keep one thread and every decision.
//
// The Service prefixes the idempotency keys it is given with the
// operation ("open:", "link:", "decide:"), so callers pass Slack's ids as
// they are.
type Service struct {
	store   Store
	threads Threads
	policy  RecurrencePolicy
	now     func() time.Time
	redact  redact.Redactor
	log     *zap.Logger
	silence map[string]Silencer
	claims  schedule.Claimer
	// holder names this Service when it takes the posting of an
	// escalation (Store.TakeEscalation).
	holder string

	// locks serialize the steps on one anomaly within the process.
	locks keylock.Map[int64]
}

// NewService checks o and returns a Service.
func NewService(o ServiceOptions) (*Service, error) {
	var errs []error
	if o.Store == nil {
		errs = append(errs, errors.New("triage service: Store is required"))
	}
	if o.Threads == nil {
		errs = append(errs, errors.New("triage service: Threads is required"))
	}
	o.Recurrence.SetDefaults()
	if err := o.Recurrence.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("triage service: recurrence.%w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var id [8]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails
	s := &Service{store: o.Store, threads: o.Threads, policy: o.Recurrence, now: o.Now, redact: o.Redactor, log: o.Logger,
		silence: o.Silencers, claims: o.SilenceClaims, holder: "triage-" + hex.EncodeToString(id[:])}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	return s, nil
}

// lock locks anomaly id's steps and returns the unlock.
func (s *Service) lock(id int64) (unlock func()) { return s.locks.Lock(id) }

// opKey is the idempotency key of operation op for the caller's key; the
// empty key stays empty ("not idempotent").
func opKey(op, key string) string {
	if key == "" {
		return ""
	}
	return op + ":" + key
}

// Get returns one anomaly, or ErrNotFound.
func (s *Service) Get(ctx context.Context, id int64) (Anomaly, error) { return s.store.Get(ctx, id) }

// ListOpen returns the open anomalies of env (of every environment when
// env is ""), as Store.ListOpen.
func (s *Service) ListOpen(ctx context.Context, env string) ([]Anomaly, error) {
	return s.store.ListOpen(ctx, env)
}

// Decide records rec on anomaly id (Store.Decide, idempotent on key), its
// texts redacted first (ServiceOptions.Redactor),
// then posts it in the anomaly's thread and shows it on the root message;
// the root is updated even when the reply could not be posted.
//
// A key already recorded is a delivery handled before (Slack redelivers an
// envelope whose ack it missed, to this replica or another, before or after
// a restart): nothing is written and nothing is posted again but the root,
// which shows the anomaly as it is. The reply is posted at most once: a
// process that dies between recording the decision and posting it leaves
// the decision on the root message and the timeline, not in a reply.
//
// The Store's errors are returned wrapped: ErrNotFound (no such anomaly),
// opsbot.ErrConflict (the decision would reopen it while another anomaly
// with its fingerprint is open), a *opsbot.ValidationError, and
// opsbot.ErrNotRecorded for the store's own failures (the decision is not
// recorded and nothing was posted: the same call may succeed later). When the
// decision is recorded, the anomaly is returned with the errors of
// telling the thread, if any. first says this call recorded the decision
// (false for a delivery handled before), so that a caller counts each
// decision once.
func (s *Service) Decide(ctx context.Context, id int64, rec DecisionRecord, key string) (a Anomaly, first bool, err error) {
	rec = s.redactRecord(rec)
	unlock := s.lock(id)
	defer unlock()
	k := opKey("decide", key)
	replayed, err := s.store.KeyUsed(ctx, k)
	if err != nil {
		return Anomaly{}, false, fmt.Errorf("recording a decision on anomaly %d: %w", id, opsbot.NotRecorded(err))
	}
	a, err = s.store.Decide(ctx, id, rec, k)
	if err != nil {
		return Anomaly{}, false, fmt.Errorf("recording a decision on anomaly %d: %w", id, opsbot.NotRecorded(err))
	}
	if replayed {
		s.log.Info("a decision delivered again; not posted twice", zap.Int64("anomaly", id), zap.String("key", k))
		return a, false, s.updateRoot(ctx, a)
	}
	var replyErr error
	if a.HasThread() {
		if err := s.threads.ReplyDecision(ctx, a, rec); err != nil {
			replyErr = fmt.Errorf("replying in anomaly %d's thread: %w", a.ID, err)
		}
	}
	return a, true, errors.Join(replyErr, s.updateRoot(ctx, a))
}

// updateRoot shows a in its root message, when it has a thread.
func (s *Service) updateRoot(ctx context.Context, a Anomaly) error {
	if !a.HasThread() {
		return nil
	}
	if err := s.threads.UpdateRoot(ctx, a, s.memory(ctx, a)); err != nil {
		return fmt.Errorf("updating anomaly %d's root message: %w", a.ID, err)
	}
	return nil
}

// redactAnomaly takes secrets out of a's texts (ServiceOptions.Redactor).
// The fingerprint is redacted too: a manual anomaly's is its title, and
// two reports that differ only by a secret are the same anomaly. A link
// that carries a secret is dropped rather than stored broken.
func (s *Service) redactAnomaly(a Anomaly) Anomaly {
	a.Title = s.redact.Text(a.Title)
	a.Detail = s.redact.Text(a.Detail)
	a.Fingerprint = s.redact.Text(a.Fingerprint)
	if s.redact.Text(a.Link) != a.Link {
		a.Link = ""
	}
	return a
}

// redactRecord takes secrets out of a decision's texts; a URL that
// carries one is redacted too, and then refused by the record's
// validation if it is no longer a URL.
func (s *Service) redactRecord(rec DecisionRecord) DecisionRecord {
	rec.Conclusion = s.redact.Text(rec.Conclusion)
	rec.FiveWhys = s.redact.Text(rec.FiveWhys)
	rec.UsersAffected = s.redact.Text(rec.UsersAffected)
	rec.ToCollect = s.redact.Text(rec.ToCollect)
	rec.Ticket = s.redact.Text(rec.Ticket)
	rec.Dashboard = s.redact.Text(rec.Dashboard)
	return rec
}
