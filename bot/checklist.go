package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

// handleChecklist runs `/ops checklist [env]`: a "running…" message in the
// channel, updated in place as each check finishes (coalesced, spaced for
// chat.update's rate limit), then the report with Investigate buttons, then
// the recurrence treatment of the findings.
func (b *Bot) handleChecklist(ctx context.Context, r *request) error {
	if err := b.authorize(ctx, r, "run the checklist"); err != nil {
		return err
	}
	if !b.firstRun(ctx, r) {
		return nil
	}
	env := r.args[0]
	list, err := b.opts.Checklist(ctx, env)
	if err != nil {
		return fmt.Errorf("building the %s checklist: %w", env, err)
	}
	askedBy := b.names.display(ctx, r.userID)
	_, err = b.runChecklist(ctx, r.channelID, env, askedBy, r.userID, list, "command")
	var rp *runningPostError
	if errors.As(err, &rp) && channelUnusable(rp.err) {
		return userErr(say(b.texts(), templates.ChecklistNotInChannel, templates.NoData{}))
	}
	return err
}

// firstRun claims the command's key in the store (Commands) and reports
// whether this is its first run: a command delivered again after a
// restart, or to another replica, finds it claimed and posts no second
// report (b.seen only knows this process's). When the store cannot say,
// the checklist runs: a report twice is better than none when it is needed
// most.
func (b *Bot) firstRun(ctx context.Context, r *request) bool {
	if r.triggerID == "" {
		return true
	}
	first, err := b.opts.Commands.Claim(ctx, "command/"+r.idem)
	switch {
	case err != nil:
		b.log.Warn("could not record the command's run; running it anyway", append(r.fields(), zap.Error(err))...)
		return true
	case !first:
		b.log.Info("dropped a command that already ran (delivered again)", r.fields()...)
	}
	return first
}

// runningPostError: the "running…" message could not be posted.
type runningPostError struct{ err error }

func (e *runningPostError) Error() string { return "posting the running message: " + e.err.Error() }
func (e *runningPostError) Unwrap() error { return e.err }

// runChecklist runs list in channel, for `/ops checklist` and the
// scheduled run alike (checklist.Run): the "running…" message updated in
// place, the report with Investigate buttons, the sightings announced in
// their threads. askedBy is mrkdwn (escaped); askedByID, saved with the run, is the
// Slack user id who asked, or handover.ActorSchedule. reported tells whether the
// report was posted; err may still tell of a recurrence that could not be
// recorded or announced.
func (b *Bot) runChecklist(ctx context.Context, channel, env, askedBy, askedByID string, list Checklist, trigger string) (reported bool, err error) {
	names := make([]string, len(list.Checks))
	for i, c := range list.Checks {
		names[i] = c.Name()
	}
	tx := b.texts()
	running := say(tx, templates.ChecklistRunning, templates.Running{Environment: Escape(env), Checks: len(names), AskedBy: askedBy})
	if err := ctx.Err(); err != nil {
		return false, &runningPostError{context.Cause(ctx)}
	}
	// Once asked for, the "running…" post is seen through, even if the
	// run is cancelled meanwhile (a shutdown past its grace period):
	// otherwise Slack may have posted it while we never learn its ts, and
	// it would say "running…" forever. A cancelled run then replaces it
	// with its report, saying so.
	postCtx, cancelPost := context.WithTimeout(context.WithoutCancel(ctx), finalUpdateTimeout)
	_, ts, err := b.api.PostMessageContext(postCtx, channel,
		slack.MsgOptionText(running, false),
		slack.MsgOptionBlocks(progressBlocks(tx, env, askedBy, names, nil)...))
	cancelPost()
	if err != nil {
		return false, &runningPostError{err}
	}

	up := newProgressUpdater(b, channel, ts, func(done map[int]checks.Result) []slack.Block {
		return progressBlocks(tx, env, askedBy, names, done)
	})
	go up.loop(ctx)
	out := checklist.Run(ctx, checklist.RunOptions{
		Environment: env, Checks: list.Checks, Timeout: list.Timeout,
		Channel: channel, MessageTS: ts, Progress: up, AskedBy: askedByID,
		Runs: b.runs, Triage: b.triage, Memory: b.triage, SaveTimeout: finalUpdateTimeout,
		Logger: b.log.Named("checks"), Now: b.opts.Now, Meter: list.Meter, Redactor: list.Redactor,
	})
	rep := out.Report

	// Cut short (ChecklistTimeout, or shutting down): the report is still
	// posted, saying so, under a short deadline of its own; otherwise the
	// message would say "running…" forever.
	stopped := ""
	if out.CutShort != nil {
		stopped = say(tx, templates.ChecklistCancelled, templates.NoData{})
		if out.TimedOut {
			stopped = say(tx, templates.ChecklistTimedOut, templates.NoData{})
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), finalUpdateTimeout)
		defer cancel()
	}
	// A report whose run could not be stored is posted without buttons.
	saveErr := out.SaveErr
	if saveErr != nil {
		saveErr = fmt.Errorf("storing the %s checklist's findings (the report has no Investigate buttons): %w", env, saveErr)
	}
	fallback, blocks := reportMessage(tx, rep, out.RunID, askedBy, stopped, b.findingNotes(ctx, tx, rep))
	if err := b.updateFinal(ctx, channel, ts, fallback, blocks); err != nil {
		b.opts.Metrics.ChecklistRun(env, trigger, rep, false)
		return false, errors.Join(fmt.Errorf("posting the report: %w", err), saveErr, out.ObserveErr, out.MemoryErr)
	}
	b.opts.Metrics.ChecklistRun(env, trigger, rep, true)
	errs := []error{saveErr, b.postKnownNoise(ctx, channel, ts, rep)}
	for _, obs := range out.Announce {
		if err := b.triage.Announce(ctx, obs); err != nil {
			errs = append(errs, err)
		}
	}
	return true, errors.Join(append(errs, out.ObserveErr, out.MemoryErr)...)
}

// postKnownNoise lists the report's findings suppressed as known noise
// in the report's thread (channel, ts), where its "known noise: N
// suppressed" line sends the reader; nothing when there are none.
func (b *Bot) postKnownNoise(ctx context.Context, channel, ts string, rep checks.Report) error {
	if len(rep.Suppressed) == 0 {
		return nil
	}
	deciders := map[string]string{}
	for _, sp := range rep.Suppressed {
		if id := sp.Known.DecidedBy; deciders[id] == "" {
			deciders[id] = b.names.display(ctx, id)
		}
	}
	text, blocks := knownNoiseMessage(b.texts(), rep, deciders)
	if _, _, err := b.api.PostMessageContext(ctx, channel, slack.MsgOptionTS(ts),
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)); err != nil {
		return fmt.Errorf("listing the known noise in the report's thread: %w", err)
	}
	return nil
}

// reportMessage is the checklist's final message: its fallback text and
// reportBlocks, with the reason first when the run was cut short (stopped:
// the rendered checklist.timedOut or checklist.cancelled; "" when it
// finished), and notes (the "Last time" lines and tips) under the
// findings.
func reportMessage(tx texts, rep checks.Report, runID int64, askedBy, stopped string, notes map[string]string) (string, []slack.Block) {
	data := reportData(rep, askedBy)
	data.Stopped = stopped
	fallback := say(tx, templates.ChecklistSummary, data)
	blocks := reportBlocks(tx, rep, runID, askedBy, notes)
	if stopped != "" {
		if len(blocks) >= maxMessageBlocks {
			blocks = blocks[:maxMessageBlocks-1]
		}
		blocks = slices.Insert(blocks, 1, slack.Block(contextText(":warning: "+stopped)))
	}
	return fallback, blocks
}

// finalUpdateTimeout bounds the report of a checklist cut short.
const finalUpdateTimeout = 10 * time.Second

// updateFinal replaces a checklist message with its report, in its slot
// of the bot-wide spacer.
func (b *Bot) updateFinal(ctx context.Context, channel, ts, fallback string, blocks []slack.Block) error {
	if err := b.spacer.wait(ctx); err != nil {
		return err
	}
	return b.update(ctx, channel, ts, slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...))
}

// progressUpdater is a run's checklist.Progress in Slack: it coalesces
// check results into chat.update calls, at most one in flight, each in its
// slot of the bot-wide spacer, always showing the latest state.
type progressUpdater struct {
	b       *Bot
	channel string
	ts      string
	render  func(map[int]checks.Result) []slack.Block

	mu    sync.Mutex
	done  map[int]checks.Result
	dirty chan struct{}
	quit  chan struct{}
	ended chan struct{}
}

func newProgressUpdater(b *Bot, channel, ts string, render func(map[int]checks.Result) []slack.Block) *progressUpdater {
	return &progressUpdater{b: b, channel: channel, ts: ts, render: render, done: map[int]checks.Result{},
		dirty: make(chan struct{}, 1), quit: make(chan struct{}), ended: make(chan struct{})}
}

// Checked records a result; it never blocks (the Runner calls it).
func (u *progressUpdater) Checked(i int, r checks.Result) {
	u.mu.Lock()
	u.done[i] = r
	u.mu.Unlock()
	select {
	case u.dirty <- struct{}{}:
	default:
	}
}

// Done ends the loop and waits for it; pending progress is dropped (the
// final report replaces it).
func (u *progressUpdater) Done() {
	close(u.quit)
	<-u.ended
}

func (u *progressUpdater) loop(ctx context.Context) {
	defer close(u.ended)
	for {
		select {
		case <-u.dirty:
		case <-u.quit:
			return
		case <-ctx.Done():
			return
		}
		if u.b.spacer.wait(ctx) != nil {
			return
		}
		select {
		case <-u.quit:
			return
		default:
		}
		u.mu.Lock()
		snapshot := make(map[int]checks.Result, len(u.done))
		for k, v := range u.done {
			snapshot[k] = v
		}
		u.mu.Unlock()
		if err := u.b.update(ctx, u.channel, u.ts, slack.MsgOptionBlocks(u.render(snapshot)...)); err != nil {
			u.b.log.Warn("could not update checklist progress", zap.Error(err))
		}
	}
}

// seenAgainMessage is the thread reply saying an anomaly's finding was seen
// again: its text and blocks.
func seenAgainMessage(tx texts, rec triage.Recurrence) (string, []slack.Block) {
	msg := say(tx, templates.TriageSeenAgain, templates.Recurrence{Recurrence: Escape(rec.String())})
	return msg, []slack.Block{section(msg)}
}

// escalationMessage is the thread reply escalating an Intermittent anomaly
// that keeps coming back, mentioning mention (Mention: the ops group's, or
// ""), reason being the recurrence (triage.Recurrence.String): its text and
// blocks.
func escalationMessage(tx texts, mention, reason string) (string, []slack.Block) {
	msg := say(tx, templates.TriageEscalate, templates.Recurrence{Recurrence: Escape(reason), Mention: mention})
	return msg, []slack.Block{section(msg)}
}
