package triage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/checks"
)

// FindingAnomaly is the anomaly to open for finding f of a checklist run
// in env, investigated by openedBy (a Slack user id) at at. Any finding
// can be investigated: its title is made one line, title and detail are
// cut to this package's limits, and its link is kept only when it is one
// the anomaly accepts (an http(s) URL of reasonable length).
func FindingAnomaly(env string, f checks.Finding, openedBy string, at time.Time) Anomaly {
	return Anomaly{
		Environment: env, Fingerprint: f.Fingerprint,
		Title:  opsbot.Truncate(oneLine(f.Title), MaxTitleLen),
		Detail: opsbot.Truncate(f.Detail, MaxTextLen),
		Link:   httpLink(f.Link),
		Labels: storableLabels(f.Labels),
		Source: SourceChecklist, OpenedBy: openedBy, OpenedAt: at,
		Magnitude: Magnitude(f),
	}
}

// storableLabels returns labels when an anomaly can keep them all, else
// nil: the anomaly is still opened, it just cannot be silenced.
func storableLabels(labels map[string]string) map[string]string {
	if len(labels) > MaxLabels {
		return nil
	}
	for name, value := range labels {
		if len(name) > opsbot.MaxIDLen || utf8.RuneCountInString(value) > MaxTextLen {
			return nil
		}
	}
	return labels
}

// Magnitude is how big finding f is, to tell whether it grew since it was
// decided: its Count (log lines of a signature, pods, alerts, series), 0
// when the check gives none.
func Magnitude(f checks.Finding) float64 { return float64(max(f.Count, 0)) }

// ManualAnomaly is the anomaly a person reports by hand (`/ops anomaly
// <title>`) in env. Its fingerprint is the title's, case and spacing
// aside, so that the same report made twice leads to the same thread.
// The title is kept as typed: Store.OpenAnomaly rejects one too long.
func ManualAnomaly(env, title, openedBy string, at time.Time) Anomaly {
	return Anomaly{
		Environment: env,
		Fingerprint: checks.Fingerprint("manual", strings.ToLower(oneLine(title))),
		Title:       title, Source: SourceManual, OpenedBy: openedBy, OpenedAt: at,
	}
}

// oneLine joins a text's lines.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// httpLink is s when an anomaly accepts it as its link, else "".
func httpLink(s string) string {
	if len(s) > opsbot.MaxURLLen || !opsbot.IsHTTPURL(s) {
		return ""
	}
	return s
}

// Opened is the outcome of Service.Open.
type Opened struct {
	// Anomaly is the anomaly opened, or the open one with the same
	// fingerprint, with its thread.
	Anomaly Anomaly
	// Created: the anomaly was opened by this call (or by the first call
	// with its key), not found open already.
	Created bool
	// Posted: this call posted the thread's root message. It is false when
	// the anomaly had a thread already, or when another replica linked its
	// own first (ours was then deleted).
	Posted bool
}

// Open opens an investigation of in and makes sure it has one thread: in's
// texts are redacted (ServiceOptions.Redactor), then Store.OpenAnomaly (idempotent on key; an open anomaly with the same
// fingerprint is returned as it is), then, when the anomaly has no thread
// yet, its root message is posted (Threads.PostRoot) and linked
// (Store.LinkThread). A retry after a failed post finds the same anomaly
// without a thread and posts it then. A root message whose link cannot be
// recorded (the store failed, or a shutdown cancelled ctx) is deleted
// again: no root message stays in Slack without the anomaly that records
// it, and the retry posts the one thread.
//
// The errors of the store are wrapped with opsbot.ErrNotRecorded: the
// anomaly was not opened, or it has no thread yet; nothing is left posted.
//
// Within the Service, one Open at a time posts an anomaly's thread; across
// replicas, LinkThread links only the first thread, and a replica whose
// root message lost deletes it (Threads.DeleteRoot) and returns the
// winner's thread.
//
// then, if not nil, is given the outcome while the anomaly is still
// locked, and its error is returned: what the caller says about the
// opening (the bot's "Opened anomaly #N" to whoever asked) comes before
// the next step on the anomaly in this process, such as a decision's
// reply in its thread.
//
// Invalid input is a *opsbot.ValidationError (wrapped), for the caller to
// show.
func (s *Service) Open(ctx context.Context, in Anomaly, key string, then func(context.Context, Opened) error) (Opened, error) {
	in = s.redactAnomaly(in)
	a, created, err := s.store.OpenAnomaly(ctx, in, opKey("open", key))
	if err != nil {
		return Opened{}, fmt.Errorf("opening an anomaly: %w", opsbot.NotRecorded(err))
	}
	unlock := s.lock(a.ID)
	defer unlock()
	o, err := s.thread(ctx, a, created, key)
	if err != nil || then == nil {
		return o, err
	}
	return o, then(ctx, o)
}

// thread makes sure anomaly a, just opened, has a thread; the caller holds
// its lock.
func (s *Service) thread(ctx context.Context, a Anomaly, created bool, key string) (Opened, error) {
	var err error
	if !a.HasThread() {
		// Another call may have posted it while we waited for the lock.
		if a, err = s.store.Get(ctx, a.ID); err != nil {
			return Opened{}, fmt.Errorf("reading anomaly: %w", opsbot.NotRecorded(err))
		}
	}
	if a.HasThread() {
		return Opened{Anomaly: a, Created: created}, nil
	}

	channel, ts, err := s.threads.PostRoot(ctx, a, s.memory(ctx, a))
	if err != nil {
		return Opened{}, fmt.Errorf("posting anomaly %d's thread: %w", a.ID, err)
	}
	id := a.ID
	linked, err := s.store.LinkThread(ctx, id, channel, ts, opKey("link", key))
	if err != nil {
		return s.unlinkedRoot(ctx, id, created, channel, ts, err)
	}
	a = linked
	if a.Channel != channel || a.ThreadTS != ts {
		// Another replica posted and linked its root message first (the
		// lock is per process; LinkThread is a compare-and-set): ours
		// goes, theirs is the thread.
		s.deleteLosingRoot(ctx, id, channel, ts)
		return Opened{Anomaly: a, Created: created}, nil
	}
	s.log.Info("anomaly thread opened", zap.Int64("anomaly", a.ID), zap.String("channel", channel), zap.String("ts", ts))
	return Opened{Anomaly: a, Created: created, Posted: true}, nil
}

// cleanupTimeout bounds what is done after a write failed so that no post
// is left without its record: reading the record again, deleting the post.
// It runs on a context that is not cancelled with the caller's (a
// shutdown's cancellation may be what made the write fail).
const cleanupTimeout = 10 * time.Second

// unlinkedRoot handles a root message posted (channel, ts) whose link to
// anomaly id could not be recorded (linkErr): no root message may stay in
// Slack that no anomaly records, or a retry would post a second one. The
// anomaly is read again, in case the link was recorded after all (a commit
// whose answer was lost): if it is ours, the opening succeeded; if another
// thread is recorded, ours lost the race and goes. Otherwise ours is
// deleted, and the error (wrapping opsbot.ErrNotRecorded) says the anomaly
// is still without a thread: opening it again posts one.
func (s *Service) unlinkedRoot(ctx context.Context, id int64, created bool, channel, ts string, linkErr error) (Opened, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if a, err := s.store.Get(cctx, id); err == nil && a.HasThread() {
		if a.Channel == channel && a.ThreadTS == ts {
			s.log.Info("anomaly thread opened (its link was recorded despite an error)",
				zap.Int64("anomaly", id), zap.String("ts", ts), zap.NamedError("link_error", linkErr))
			return Opened{Anomaly: a, Created: created, Posted: true}, nil
		}
		s.deleteLosingRoot(cctx, id, channel, ts)
		return Opened{Anomaly: a, Created: created}, nil
	}
	log := s.log.With(zap.Int64("anomaly", id), zap.String("channel", channel), zap.String("ts", ts))
	if err := s.threads.DeleteRoot(cctx, channel, ts); err != nil && !errors.Is(err, opsbot.ErrNotFound) {
		// The one case where a root message outlives its failed link: say
		// where it is, so that it can be removed by hand.
		log.Error("could not record the anomaly's thread, nor delete its root message: it is left in the channel",
			zap.NamedError("link_error", linkErr), zap.Error(err))
		return Opened{}, fmt.Errorf("recording anomaly %d's thread: %w (and deleting its root message %s: %w)",
			id, linkErr, ts, err)
	}
	log.Warn("could not record the anomaly's thread; deleted its root message", zap.Error(linkErr))
	return Opened{}, fmt.Errorf("recording anomaly %d's thread (its root message was deleted): %w", id, opsbot.NotRecorded(linkErr))
}

// deleteLosingRoot deletes a root message that lost the race to be an
// anomaly's thread. Its failure is logged only: the anomaly's thread is
// the recorded one either way.
func (s *Service) deleteLosingRoot(ctx context.Context, id int64, channel, ts string) {
	log := s.log.With(zap.Int64("anomaly", id), zap.String("channel", channel), zap.String("ts", ts))
	err := s.threads.DeleteRoot(ctx, channel, ts)
	switch {
	case err == nil:
		log.Info("another replica opened the anomaly's thread first; deleted our root message")
	case errors.Is(err, opsbot.ErrNotFound):
		log.Info("another replica opened the anomaly's thread first; our root message is already gone")
	default:
		log.Warn("another replica opened the anomaly's thread first; could not delete our root message", zap.Error(err))
	}
}
