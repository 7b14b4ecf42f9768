package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/handover"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

// ActionAcknowledgeHandover is the Acknowledge handover button under a
// handover; its value is the handover's id.
const ActionAcknowledgeHandover = "handover.acknowledge"

// DefaultHomeEvery is how long after publishing a user's App Home tab the
// bot does not publish it again for them: people open the tab often, and
// the view changes slowly.
const DefaultHomeEvery = 30 * time.Second

// maxHandoverLines bounds each list of the handover, so that a long one
// never pushes the next out of the message.
const maxHandoverLines = 10

// maxHomeBlocks is the most blocks of a Home tab view (Slack's limit).
const maxHomeBlocks = 100

// Handover is the ops rotation's handover as the bot shows it: `/ops
// handover` and the scheduled handover post it in Channel, mentioning who
// comes on shift, with an Acknowledge handover button; the App Home tab
// shows the same state to whoever opens it.
type Handover struct {
	// Store reads the state and records the handovers (store.DB).
	// Required.
	Store handover.Store
	// Incidents lists the open incidents (store.DB.Incidents()); nil:
	// none are shown.
	Incidents handover.Incidents
	// Channel is where handovers are posted (default Options.OpsChannel,
	// else Options.DevChannel).
	Channel string
	// Mention, optional, is who comes on shift: a user group id (S...) or
	// a user id (U..., W...). The bot builds the mention from it.
	Mention string
	// Schedule, if set, is the scheduled handover's schedule: the shift
	// ends at its next occurrence.
	Schedule *schedule.Schedule
	// Shift, if positive, is how long a shift lasts, whatever the
	// schedule (default: until the schedule's next occurrence, else
	// handover.DefaultShift).
	Shift time.Duration
	// Recurrence is the triage service's policy; Near how many sightings
	// short of its threshold an Intermittent anomaly is listed as close to
	// escalation (default handover.DefaultNear).
	Recurrence triage.RecurrencePolicy
	Near       int
	// HomeEvery is how long a user's App Home tab is not published again
	// (default DefaultHomeEvery).
	HomeEvery time.Duration
}

// handovers is the bot's handover state.
type handovers struct {
	cfg     Handover
	mention string

	mu        sync.Mutex
	published map[string]time.Time // user → last views.publish
}

// setUpHandover checks o.Handover and returns its state (nil without it).
func setUpHandover(o *Options) (*handovers, error) {
	if o.Handover == nil {
		return nil, nil
	}
	hc := *o.Handover // defaults go on a copy: the caller's stays as given
	h := &hc
	var errs []error
	if h.Store == nil {
		errs = append(errs, errors.New("handover: a store is required"))
	}
	if h.Channel == "" {
		h.Channel = o.OpsChannel
	}
	if h.Channel == "" {
		h.Channel = o.DevChannel
	}
	if !validSlackID(h.Channel, "C", "G") {
		errs = append(errs, fmt.Errorf("handover.channel: want a channel id (C...), got %q (or set the ops channel)", h.Channel))
	}
	mention := mentionOf(h.Mention)
	if h.Mention != "" && mention == "" {
		errs = append(errs, fmt.Errorf("handover.mention: want a user group id (S...) or a user id (U...), got %q", h.Mention))
	}
	if h.Shift < 0 {
		errs = append(errs, fmt.Errorf("handover.shift: must not be negative, got %s", h.Shift))
	}
	orDefault(&h.HomeEvery, DefaultHomeEvery)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &handovers{cfg: *h, mention: mention, published: map[string]time.Time{}}, nil
}

// view reads the handover's View at at.
func (h *handovers) view(ctx context.Context, at time.Time) (handover.View, error) {
	return handover.Build(ctx, handover.Options{Store: h.cfg.Store, Incidents: h.cfg.Incidents,
		Recurrence: h.cfg.Recurrence, Near: h.cfg.Near}, at, handover.ShiftEnd(at, h.cfg.Schedule, h.cfg.Shift))
}

// handleHandover answers `/ops handover`: the handover posted in the
// handover channel (the user told so when they are elsewhere). Deciders
// only: it is recorded, and starts the next handover's "since the last
// handover".
func (b *Bot) handleHandover(ctx context.Context, r *request) error {
	if b.hand == nil {
		return userErr(say(b.texts(), templates.HandoverNotSetUp, templates.NoData{}))
	}
	if err := b.authorize(ctx, r, "hand over"); err != nil {
		return err
	}
	if err := b.postHandover(ctx, b.opts.Now(), r.userID, r.idem); err != nil {
		return err
	}
	if r.channelID == b.hand.cfg.Channel {
		return nil
	}
	return b.ephemeral(ctx, r, say(b.texts(), templates.HandoverPosted, templates.Channel{Channel: "<#" + b.hand.cfg.Channel + ">"}))
}

// ScheduledHandover returns the scheduler's job of the scheduled
// handover: at each occurrence (once across the replicas, by the
// scheduler's claims), the handover posted as `/ops handover` does.
func (b *Bot) ScheduledHandover() (schedule.Job, error) {
	if b.hand == nil {
		return nil, errors.New("handover: not set up (Options.Handover)")
	}
	if b.hand.cfg.Schedule == nil {
		return nil, errors.New("handover: no schedule (Handover.Schedule)")
	}
	return func(ctx context.Context, at time.Time) error {
		ctx, cancel := context.WithTimeout(ctx, b.opts.HandlerTimeout)
		defer cancel()
		return b.postHandover(ctx, at, handover.ActorSchedule, schedule.ClaimKey("handover", at))
	}, nil
}

// postHandover reads the state at at, records the handover under key
// (the same key again posts nothing more, unless its post failed), then
// posts it and records where.
func (b *Bot) postHandover(ctx context.Context, at time.Time, by, key string) error {
	h := b.hand
	v, err := h.view(ctx, at)
	if err != nil {
		return err
	}
	rec, _, err := h.cfg.Store.RecordHandover(ctx, handover.Record{At: at, By: by}, key)
	if err != nil {
		return fmt.Errorf("recording the handover: %w", err)
	}
	if rec.MessageTS != "" {
		return nil // posted already
	}
	asked := ""
	if by != handover.ActorSchedule {
		asked = b.names.display(ctx, by)
	}
	text, blocks := handoverMessage(b.texts(), v, b.handoverLines(ctx, v), h.mention, asked, rec.ID, b.opts.Location)
	channel := h.cfg.Channel
	_, ts, err := b.api.PostMessageContext(ctx, channel, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		if channelUnusable(err) {
			return userErr(say(b.texts(), templates.ChecklistNotInChannel, templates.NoData{}))
		}
		return fmt.Errorf("posting the handover in %s: %w", channel, err)
	}
	if _, err := h.cfg.Store.SetHandoverMessage(ctx, rec.ID, channel, ts); err != nil {
		return fmt.Errorf("recording the handover's message: %w", err)
	}
	return nil
}

// handoverHeader is the first line of a handover message.
func handoverHeader(tx texts, v handover.View, mention, asked string, loc *time.Location) string {
	return say(tx, templates.HandoverHeaderText, templates.HandoverHeader{Mention: mention,
		At: incident.FormatTime(v.At, loc), Until: incident.FormatTime(v.Until, loc), By: asked})
}

// handoverMessage is the handover as a message: its fallback text (the
// header), and blocks: the header, the lists (lines, handoverLines), the
// Acknowledge handover button of handover id.
func handoverMessage(tx texts, v handover.View, lines []string, mention, asked string, id int64, loc *time.Location) (string, []slack.Block) {
	header := handoverHeader(tx, v, mention, asked, loc)
	blocks := []slack.Block{section(header)}
	blocks = append(blocks, packSections(tx, lines, maxMessageBlocks-2)...)
	btn := slack.NewButtonBlockElement(ActionAcknowledgeHandover, strconv.FormatInt(id, 10),
		plain(say(tx, templates.HandoverAcknowledgeButton, templates.NoData{})))
	btn.Style = slack.StylePrimary
	blocks = append(blocks, slack.NewActionBlock("handover/"+strconv.FormatInt(id, 10), btn))
	return header, blocks
}

// homeView is the App Home tab: the state of the rotation, as the
// handover shows it, without the button, and who took the last handover
// over (display shows a user).
func homeView(tx texts, v handover.View, lines []string, display func(string) string, loc *time.Location) slack.HomeTabViewRequest {
	header := say(tx, templates.HandoverHome, templates.HandoverHeader{
		At: incident.FormatTime(v.At, loc), Until: incident.FormatTime(v.Until, loc)})
	blocks := []slack.Block{section(header)}
	if p := v.Previous; p != nil {
		prev := templates.HandoverAck{At: incident.FormatTime(p.At, loc)}
		if p.Acknowledged() {
			prev.By = display(p.AcknowledgedBy)
		}
		blocks = append(blocks, contextText(say(tx, templates.HandoverPrevious, prev)))
	}
	blocks = append(blocks, packSections(tx, lines, maxHomeBlocks-len(blocks))...)
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
}

// handoverLines are the handover's lists as mrkdwn lines, untrusted text
// escaped: users shown by name, threads linked.
func (b *Bot) handoverLines(ctx context.Context, v handover.View) []string {
	return handoverLines(b.texts(), v, b.opts.Location,
		func(id string) string { return b.names.display(ctx, id) },
		func(a triage.Anomaly) string { return b.threadPermalink(ctx, a) })
}

// handoverLines is the lists of v as lines: open anomalies, open
// incidents, silences ending, Intermittent anomalies close to escalation,
// the last checklist, the changes since the last handover. display shows
// a user ("@alice", escaped); permalink is an anomaly's thread's link ("").
func handoverLines(tx texts, v handover.View, loc *time.Location, display func(string) string, permalink func(triage.Anomaly) string) []string {
	var lines []string
	list := func(heading templates.Text[templates.Count], n int, line func(i int) string) {
		lines = append(lines, say(tx, heading, templates.Count{Count: n}))
		for i := range n {
			if i == maxHandoverLines {
				lines = append(lines, say(tx, templates.ChecklistMore, templates.Count{Count: n - i}))
				break
			}
			lines = append(lines, line(i))
		}
	}
	thread := func(a triage.Anomaly) string {
		if link := permalink(a); link != "" {
			return Link(link, "thread")
		}
		return ""
	}
	list(templates.HandoverAnomalies, len(v.Anomalies), func(i int) string {
		a := v.Anomalies[i]
		d := templates.HandoverAnomaly{ID: a.ID, Title: escapeLine(a.Title, 120), Environment: Escape(a.Environment),
			Age: age(a.Age), Thread: thread(a.Anomaly)}
		if a.Decision != nil {
			d.Decision = a.Decision.Decision.Label()
		}
		if a.Owner != "" {
			d.Owner = display(a.Owner)
		}
		return say(tx, templates.HandoverAnomalyLine, d)
	})
	list(templates.HandoverIncidents, len(v.Incidents), func(i int) string {
		inc := v.Incidents[i]
		d := templates.HandoverIncident{ID: inc.ID, Environment: Escape(inc.Environment), What: escapeLine(inc.What, 120),
			From: incident.FormatTime(inc.From, loc)}
		if inc.StatusPage.Enabled {
			d.StatusPage = Escape(string(inc.StatusPage.State))
		}
		return say(tx, templates.HandoverIncidentLine, d)
	})
	list(templates.HandoverSilences, len(v.Silences), func(i int) string {
		a := v.Silences[i]
		d := templates.HandoverSilence{AnomalyID: a.ID, Title: escapeLine(a.Title, 120), Environment: Escape(a.Environment)}
		if a.Decision != nil && a.Decision.Silence != nil {
			d.Ends = incident.FormatTime(a.Decision.Silence.EndsAt, loc)
		}
		return say(tx, templates.HandoverSilenceLine, d)
	})
	list(templates.HandoverNearEscalation, len(v.NearEscalation), func(i int) string {
		n := v.NearEscalation[i]
		return say(tx, templates.HandoverNearLine, templates.HandoverNear{AnomalyID: n.ID, Title: escapeLine(n.Title, 120),
			Environment: Escape(n.Environment), Sightings: n.Sightings, Threshold: n.Threshold, Window: window(n.Window)})
	})
	run := templates.HandoverChecklist{}
	if r := v.LastRun; r != nil {
		run = templates.HandoverChecklist{Environment: Escape(r.Environment), At: incident.FormatTime(r.At, loc),
			Status: Escape(r.Status), Findings: r.Findings}
		switch r.AskedBy {
		case "":
		case handover.ActorSchedule:
			run.By = say(tx, templates.ChecklistScheduledBy, templates.NoData{})
		default:
			run.By = display(r.AskedBy)
		}
	}
	lines = append(lines, say(tx, templates.HandoverChecklistLine, run))

	changes := templates.HandoverChanges{New: len(v.New), Resolved: len(v.Resolved)}
	if !v.Since.IsZero() {
		changes.Since = incident.FormatTime(v.Since, loc)
	}
	lines = append(lines, say(tx, templates.HandoverChangesHeader, changes))
	for i, f := range v.New {
		if i == maxHandoverLines {
			lines = append(lines, say(tx, templates.ChecklistMore, templates.Count{Count: len(v.New) - i}))
			break
		}
		lines = append(lines, say(tx, templates.HandoverNewLine, templates.HandoverFingerprint{
			Environment: Escape(f.Environment), Title: escapeLine(f.Title, 120), FirstSeen: incident.FormatTime(f.FirstSeen, loc)}))
	}
	for i, a := range v.Resolved {
		if i == maxHandoverLines {
			lines = append(lines, say(tx, templates.ChecklistMore, templates.Count{Count: len(v.Resolved) - i}))
			break
		}
		d := templates.HandoverAnomaly{ID: a.ID, Title: escapeLine(a.Title, 120), Environment: Escape(a.Environment),
			Thread: thread(a)}
		if a.Decision != nil {
			d.Decision = a.Decision.Decision.Label()
		}
		lines = append(lines, say(tx, templates.HandoverResolvedLine, d))
	}
	return lines
}

// age formats how long an anomaly has been open: "3d 4h", "2h 5m",
// "12m"; "" under a minute.
func age(d time.Duration) string {
	if d < time.Minute {
		return ""
	}
	return incident.FormatDuration(d.Truncate(time.Minute))
}

// window formats a recurrence window: whole days as "7d".
func window(d time.Duration) string {
	if day := 24 * time.Hour; d >= day && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

// handleAcknowledgeHandover records who took over. Deciders only (who may
// run the checklist and decide may take the rotation over). The first
// click takes over and the message says so, in place of the button; a
// click by someone else afterwards is told who took over; the same click
// delivered again changes nothing more.
func (b *Bot) handleAcknowledgeHandover(ctx context.Context, r *request) error {
	if b.hand == nil {
		return userErr(say(b.texts(), templates.HandoverNotSetUp, templates.NoData{}))
	}
	if err := b.authorize(ctx, r, "take the handover over"); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.action.Value, 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("acknowledge button value %q: %w", r.action.Value, errors.Join(err, errBadValue))
	}
	rec, first, err := b.hand.cfg.Store.AcknowledgeHandover(ctx, id, r.userID, b.opts.Now())
	switch {
	case errors.Is(err, opsbot.ErrNotFound):
		return userErr(say(b.texts(), templates.HandoverGone, templates.NoData{}))
	case err != nil:
		return err
	}
	ack := templates.HandoverAck{By: b.names.display(ctx, rec.AcknowledgedBy),
		At: incident.FormatTime(rec.AcknowledgedAt, b.opts.Location)}
	if !first && rec.AcknowledgedBy != r.userID {
		return userErr(say(b.texts(), templates.HandoverAlreadyTaken, ack))
	}
	// The first click, or the same person's click delivered again: the
	// message shows who took over (again: the first update may have
	// failed).
	if r.cb == nil {
		return nil
	}
	channel, ts := r.cb.Container.ChannelID, r.cb.Container.MessageTs
	if channel == "" || ts == "" {
		channel, ts = rec.Channel, rec.MessageTS
	}
	if channel == "" || ts == "" {
		return nil
	}
	text, blocks := acknowledgedMessage(b.texts(), r.cb.Message.Text, r.cb.Message.Blocks.BlockSet, ack)
	return b.update(ctx, channel, ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
}

// acknowledgedMessage is a handover message (its text and blocks as
// posted) once someone took over: the Acknowledge handover button gives
// way to who took over, and when.
func acknowledgedMessage(tx texts, text string, posted []slack.Block, ack templates.HandoverAck) (string, []slack.Block) {
	var blocks []slack.Block
	for _, bl := range posted {
		if a, ok := bl.(*slack.ActionBlock); ok && hasAction(a, ActionAcknowledgeHandover) {
			continue
		}
		if c, ok := bl.(*slack.ContextBlock); ok && c.BlockID == "handover-ack" {
			continue
		}
		blocks = append(blocks, bl)
	}
	note := slack.NewContextBlock("handover-ack", mrkdwn(say(tx, templates.HandoverAcknowledged, ack)))
	return text, append(blocks, note)
}

// hasAction reports whether an actions block has an element with action id.
func hasAction(a *slack.ActionBlock, id string) bool {
	if a.Elements == nil {
		return false
	}
	for _, e := range a.Elements.ElementSet {
		if btn, ok := e.(*slack.ButtonBlockElement); ok && btn.ActionID == id {
			return true
		}
	}
	return false
}

// onAppHomeOpened publishes the App Home tab of user: the state of the
// rotation, as the handover shows it. Not more than once per HomeEvery
// per user; a failed publish frees the turn.
func (b *Bot) onAppHomeOpened(ctx context.Context, user string) error {
	h := b.hand
	if h == nil || !validSlackID(user, "U", "W") {
		return nil
	}
	now := b.opts.Now()
	h.mu.Lock()
	last, ok := h.published[user]
	if ok && now.Sub(last) < h.cfg.HomeEvery {
		h.mu.Unlock()
		return nil
	}
	if len(h.published) > 4096 {
		clear(h.published)
	}
	h.published[user] = now
	h.mu.Unlock()

	v, err := h.view(ctx, now)
	if err == nil {
		_, err = b.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user,
			View: homeView(b.texts(), v, b.handoverLines(ctx, v),
				func(id string) string { return b.names.display(ctx, id) }, b.opts.Location)})
	}
	if err != nil {
		h.mu.Lock()
		if h.published[user].Equal(now) {
			delete(h.published, user)
		}
		h.mu.Unlock()
		return fmt.Errorf("publishing the App Home tab of %s: %w", user, err)
	}
	return nil
}
