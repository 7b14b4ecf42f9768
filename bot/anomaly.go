package bot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/triage"
)

// handleInvestigate opens (or links to) the anomaly thread of a finding
// from a checklist report; the finding is read from the stored run the
// button's value names (RunStore), so any replica, restarted or not,
// handles the click.
func (b *Bot) handleInvestigate(ctx context.Context, r *request) error {
	if err := b.authorize(ctx, r, "investigate anomalies"); err != nil {
		return err
	}
	runID, idx, ok := parseInvestigateValue(r.action.Value)
	if !ok {
		return userErr(text(tChecklistStale))
	}
	f, env, found, err := b.runs.RunFinding(ctx, runID, idx)
	if err != nil {
		return fmt.Errorf("reading finding %d of checklist run %d: %w", idx, runID, err)
	}
	if !found {
		return userErr(text(tChecklistStale))
	}
	return b.openAnomaly(ctx, r, triage.Anomaly{
		Environment: env, Fingerprint: f.Fingerprint,
		Title:  truncate(oneLine(f.Title), triage.MaxTitleLen),
		Detail: truncate(f.Detail, triage.MaxTextLen),
		Link:   httpLink(f.Link),
		Source: triage.SourceChecklist, OpenedBy: r.userID, OpenedAt: b.opts.Now(),
	})
}

// oneLine joins a text's lines.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// httpLink keeps a finding's link when triage will accept it (an http(s)
// URL of reasonable length); a finding with another link can still be
// investigated.
func httpLink(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		len(s) > opsbot.MaxURLLen || strings.ContainsAny(s, " \t\r\n") {
		return ""
	}
	return s
}

// handleManualAnomaly is `/ops anomaly <title>`: an investigation started
// by hand, in the default environment.
func (b *Bot) handleManualAnomaly(ctx context.Context, r *request) error {
	if err := b.authorize(ctx, r, "open anomalies"); err != nil {
		return err
	}
	title := r.rest
	return b.openAnomaly(ctx, r, triage.Anomaly{
		Environment: b.opts.DefaultEnvironment,
		Fingerprint: checks.Fingerprint("manual", strings.ToLower(strings.Join(strings.Fields(title), " "))),
		Title:       title, Source: triage.SourceManual, OpenedBy: r.userID, OpenedAt: b.opts.Now(),
	})
}

// openAnomaly is store first, then post, then link: OpenAnomaly (idempotent
// on the request's key; an open anomaly with the same fingerprint is
// returned as is), then the root message in the dev channel when the
// anomaly has no thread yet, then LinkThread. A retry after a failed post
// finds the same anomaly without a thread and posts it then.
func (b *Bot) openAnomaly(ctx context.Context, r *request, in triage.Anomaly) error {
	a, created, err := b.store.OpenAnomaly(ctx, in, "open:"+r.idem)
	if err != nil {
		var ve *opsbot.ValidationError
		if errors.As(err, &ve) {
			return userErr("I can't open that anomaly: " + Escape(ve.Error()))
		}
		return fmt.Errorf("opening an anomaly: %w", err)
	}
	unlock := b.locks.lock("anomaly:" + strconv.FormatInt(a.ID, 10))
	defer unlock()
	if !a.HasThread() {
		// Another worker may have posted it while we waited for the lock.
		if a, err = b.store.Get(ctx, a.ID); err != nil {
			return fmt.Errorf("reading anomaly: %w", err)
		}
	}
	if a.HasThread() {
		link := b.permalink(ctx, a.Channel, a.ThreadTS)
		msg := text(tAnomalyOpened, a.ID, Link(link, "thread"))
		if !created {
			msg = text(tAnomalyExisting, a.ID, Link(link, "the thread"))
		}
		return b.ephemeral(ctx, r, msg)
	}

	v := rootView{Anomaly: a, Opener: b.names.display(ctx, a.OpenedBy)}
	channel, ts, err := b.api.PostMessageContext(ctx, b.opts.DevChannel,
		slack.MsgOptionText(rootFallback(v), false), slack.MsgOptionBlocks(rootBlocks(v)...))
	if err != nil {
		return fmt.Errorf("posting anomaly %d's thread: %w", a.ID, err)
	}
	id := a.ID
	if a, err = b.store.LinkThread(ctx, id, channel, ts, "link:"+r.idem); err != nil {
		return fmt.Errorf("recording anomaly %d's thread: %w", id, err)
	}
	if a.Channel != channel || a.ThreadTS != ts {
		// Another replica posted and linked its root message first (the
		// lock above is per process; LinkThread is a compare-and-set):
		// ours goes, theirs is the thread.
		b.deleteLosingRoot(ctx, id, channel, ts)
		link := b.permalink(ctx, a.Channel, a.ThreadTS)
		msg := text(tAnomalyOpened, a.ID, Link(link, "thread"))
		if !created {
			msg = text(tAnomalyExisting, a.ID, Link(link, "the thread"))
		}
		return b.ephemeral(ctx, r, msg)
	}
	b.log.Info("anomaly thread opened", zap.Int64("anomaly", a.ID), zap.String("channel", channel), zap.String("ts", ts))
	link := b.permalink(ctx, channel, ts)
	return b.ephemeral(ctx, r, text(tAnomalyOpened, a.ID, Link(link, "thread")))
}

// deleteLosingRoot deletes a root message that lost the race to be an
// anomaly's thread. Its failure is logged only: the anomaly's thread is
// the recorded one either way.
func (b *Bot) deleteLosingRoot(ctx context.Context, id int64, channel, ts string) {
	log := b.log.With(zap.Int64("anomaly", id), zap.String("channel", channel), zap.String("ts", ts))
	_, _, err := b.api.DeleteMessageContext(ctx, channel, ts)
	var sr slack.SlackErrorResponse
	switch {
	case err == nil:
		log.Info("another replica opened the anomaly's thread first; deleted our root message")
	case errors.As(err, &sr) && sr.Err == "message_not_found":
		log.Info("another replica opened the anomaly's thread first; our root message is already gone")
	default:
		log.Warn("another replica opened the anomaly's thread first; could not delete our root message", zap.Error(err))
	}
}

// updateRoot re-renders an anomaly's root message from the store's view
// of it.
func (b *Bot) updateRoot(ctx context.Context, a triage.Anomaly) error {
	if !a.HasThread() {
		return nil
	}
	v := rootView{Anomaly: a, Opener: b.names.display(ctx, a.OpenedBy)}
	if a.Decision != nil {
		v.Decider = b.names.display(ctx, a.Decision.DecidedBy)
	}
	err := b.update(ctx, a.Channel, a.ThreadTS,
		slack.MsgOptionText(rootFallback(v), false), slack.MsgOptionBlocks(rootBlocks(v)...))
	if err != nil {
		return fmt.Errorf("updating anomaly %d's root message: %w", a.ID, err)
	}
	return nil
}
