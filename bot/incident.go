package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London without /usr/share/zoneinfo

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

// DefaultTimezone is the time zone of Options.Location when none is given.
const DefaultTimezone = "Europe/London"

// Interaction ids of the incident procedure, registered in incidentRoutes.
const (
	// ActionAnnounceIncident is the Announce incident button on the thread
	// reply to a Serious decision; its value is the anomaly id.
	ActionAnnounceIncident = "incident.announce"
	// ActionResolveIncident is a Resolve button of the ephemeral list
	// `/ops resolve` shows when several incidents are open; its value is
	// "<incident id>" or "<incident id>/<until, unix seconds>".
	ActionResolveIncident = "incident.resolve"
	// ActionRetryStatusPage is the Retry button shown when the status page
	// failed; its value is the incident id.
	ActionRetryStatusPage = "incident.retryStatusPage"
	// ActionRetryIncident is the Retry button shown when the announcement
	// could not be posted, or not edited to show the resolution; its value
	// is the incident id. It finishes every step left (the status page's
	// too): incident.Service.Finish.
	ActionRetryIncident = "incident.retry"
	// CallbackIncident is the announcement modal.
	CallbackIncident = "incident.announce"
)

// incidents is the bot's side of the incident procedure: the incident
// channel, the time zone and the incident.Desk (nil without an incident
// store).
type incidents struct {
	channel string
	loc     *time.Location
	desk    *incident.Desk
}

func (in *incidents) enabled() bool { return in != nil && in.desk != nil }

// NewAnnouncer is incident.Announcer on sl: the texts are posted as
// message text (mrkdwn), so the announcement reads exactly as the template
// renders it.
func NewAnnouncer(sl *Slack) incident.Announcer { return announcer{sl} }

type announcer struct{ *Slack }

func (a announcer) Post(ctx context.Context, channel, text string) (string, error) {
	_, ts, err := a.api.PostMessageContext(ctx, channel, slack.MsgOptionText(text, false))
	return ts, err
}

func (a announcer) Edit(ctx context.Context, channel, ts, text string) error {
	return a.update(ctx, channel, ts, slack.MsgOptionText(text, false))
}

// Delete deletes a message; Slack's message_not_found matches
// opsbot.ErrNotFound.
func (a announcer) Delete(ctx context.Context, channel, ts string) error {
	_, _, err := a.api.DeleteMessageContext(ctx, channel, ts)
	var sr slack.SlackErrorResponse
	if errors.As(err, &sr) && sr.Err == "message_not_found" {
		return fmt.Errorf("%w: %w", opsbot.ErrNotFound, err)
	}
	return err
}

func (a announcer) Reply(ctx context.Context, channel, threadTS, text string) error {
	_, _, err := a.api.PostMessageContext(ctx, channel, slack.MsgOptionText(text, false), slack.MsgOptionTS(threadTS))
	return err
}

// incidentRoutes registers the incident commands, buttons and modal.
func (b *Bot) incidentRoutes(t *routeTable) {
	t.action(ActionAnnounceIncident, "incident-announce-click", b.handleAnnounceClick)
	t.action(ActionResolveIncident, "incident-resolve-click", b.handleResolveClick)
	t.action(ActionRetryStatusPage, "incident-retry-statuspage", b.handleRetryStatusPage)
	t.action(ActionRetryIncident, "incident-retry", b.handleRetryIncident)
	t.view(CallbackIncident, "incident-announce", blockUserImpact, b.handleIncidentSubmit)
	t.command(commandRoute{name: "incident", usage: "incident [environment]", parse: parseIncident, h: b.handleIncidentCommand})
	t.command(commandRoute{name: "update", usage: "update [id] <text>", parse: parseUpdate, h: b.handleUpdate})
	t.command(commandRoute{name: "resolve", usage: "resolve [id] [time]", parse: parseResolve, h: b.handleResolve})
}

// needIncidents refuses when no incident store is configured.
func (b *Bot) needIncidents() error {
	if !b.inc.enabled() {
		return userErr(say(b.texts(), templates.IncidentNotSetUp, templates.NoData{}))
	}
	return nil
}

// --- /ops incident and the Announce button -------------------------------------

func parseIncident(b *Bot, r *request) string {
	switch len(r.args) {
	case 0:
		if b.opts.DefaultEnvironment == "" {
			return say(b.texts(), templates.IncidentWhichEnvironment, templates.NoData{})
		}
		r.args = []string{b.opts.DefaultEnvironment}
	case 1:
		if !slices.Contains(b.opts.Environments, r.args[0]) {
			return b.unknownEnvironment(r.args[0])
		}
	default:
		return say(b.texts(), templates.OpsAtMostOneEnvironment, templates.Command{Command: "incident"})
	}
	return ""
}

// handleIncidentCommand is `/ops incident [environment]`: the announcement
// modal, empty.
func (b *Bot) handleIncidentCommand(ctx context.Context, r *request) error {
	if err := b.authorize(ctx, r, "announce incidents"); err != nil {
		return err
	}
	if err := b.needIncidents(); err != nil {
		return err
	}
	form := incidentForm{Env: r.args[0], Channel: r.channelID}
	return b.openIncidentModal(ctx, r, form, incidentPrefill{})
}

// handleAnnounceClick is the Announce incident button under a Serious
// decision: the modal, prefilled from the anomaly and its decision.
func (b *Bot) handleAnnounceClick(ctx context.Context, r *request) error {
	if err := b.authorize(ctx, r, "announce incidents"); err != nil {
		return err
	}
	if err := b.needIncidents(); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.action.Value, 10, 64)
	if err != nil {
		return fmt.Errorf("announce button value %q: %w", r.action.Value, err)
	}
	a, err := b.triage.Get(ctx, id)
	if errors.Is(err, triage.ErrNotFound) {
		return userErr(say(b.texts(), templates.TriageStale, templates.Anomaly{ID: id}))
	}
	if err != nil {
		return err
	}
	if inc, ok, err := b.inc.desk.OpenForAnomaly(ctx, a.ID); err != nil {
		return err
	} else if ok {
		return b.answer(ctx, r, say(b.texts(), templates.IncidentAlreadyForAnomaly, templates.Incident{
			ID: inc.ID, AnomalyID: a.ID, Link: b.announcementLink(ctx, inc),
		}))
	}
	p := anomalyPrefill(a)
	if a.HasThread() {
		p.AnomalyLink = b.permalink(ctx, a.Channel, a.ThreadTS)
	}
	env := a.Environment
	if !slices.Contains(b.opts.Environments, env) {
		env = b.opts.DefaultEnvironment
	}
	form := incidentForm{Env: env, AnomalyID: a.ID, Channel: r.channelID}
	return b.openIncidentModal(ctx, r, form, p)
}

// anomalyPrefill is what the announcement modal starts with when it is
// opened from anomaly a (the Announce incident button): What from its title
// and conclusion, User impact from its decision. The thread's link is the
// caller's (it needs Slack).
func anomalyPrefill(a triage.Anomaly) incidentPrefill {
	var conclusion, users string
	if d := a.Decision; d != nil {
		conclusion, users = d.Conclusion, d.UsersAffected
	}
	p := incidentPrefill{Anomaly: &a}
	p.What, p.UserImpact = incident.Draft(a.Title, conclusion, users)
	return p
}

func (b *Bot) openIncidentModal(ctx context.Context, r *request, form incidentForm, p incidentPrefill) error {
	tx := b.texts()
	v := incidentModal(tx, form, p, b.opts.Now().In(b.inc.loc), b.inc.loc, b.inc.channel, b.inc.desk.HasStatusPage(form.Env))
	if _, err := b.api.OpenViewContext(ctx, r.triggerID, v); err != nil {
		var sr slack.SlackErrorResponse
		if errors.As(err, &sr) && (sr.Err == "expired_trigger_id" || sr.Err == "exchanged_trigger_id") {
			return userErr(say(tx, templates.IncidentModalExpired, templates.NoData{}))
		}
		return fmt.Errorf("views.open: %w", err)
	}
	return nil
}

// handleIncidentSubmit validates the announcement modal (errors go back in
// the ack, on the fields' blocks) and, when valid, announces after the
// ack: incident.Service.Announce, idempotent on the view id.
func (b *Bot) handleIncidentSubmit(ctx context.Context, r *request) (any, handlerFunc, error) {
	view := r.cb.View
	form, err := parseIncidentForm(view.PrivateMetadata)
	if err != nil {
		return nil, nil, err
	}
	if form.Channel != "" {
		r.channelID = form.Channel // answers go where the user started
	}
	if err := b.authorize(ctx, r, "announce incidents"); err != nil {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockUserImpact: err.Error()}), nil, nil
	}
	if !b.inc.enabled() {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{
			blockUserImpact: say(b.texts(), templates.IncidentNotSetUp, templates.NoData{}),
		}), nil, nil
	}
	now := b.opts.Now()
	in, problems := readIncidentState(b.texts(), view.State, b.inc.loc)
	inc := incident.Incident{
		Environment: form.Env, Channel: b.inc.channel, From: in.from, UserImpact: in.userImpact, What: in.what,
		AnnouncedBy: r.userID, AnnouncedAt: now, AnomalyID: form.AnomalyID,
		StatusPage: incident.StatusPage{Enabled: in.statusPage && b.inc.desk.HasStatusPage(form.Env)},
	}
	if err := inc.Normalized().Validate(now); err != nil {
		var ve *opsbot.ValidationError
		if !errors.As(err, &ve) {
			return nil, nil, err
		}
		for _, p := range ve.Problems {
			if _, dup := problems[p.Field]; !dup {
				problems[p.Field] = p.Problem
			}
		}
	}
	if len(problems) > 0 {
		return slack.NewErrorsViewSubmissionResponse(incidentFieldErrors(problems)), nil, nil
	}
	key := "announce:" + view.ID
	return nil, b.afterSubmission("incident-announce", func(ctx context.Context, r *request) error {
		return b.announce(ctx, r, inc, key)
	}), nil
}

// answer shows msg to the request's user like ephemeral, and makes sure
// an answer sent by chat.postEphemeral (a modal submission's: it has no
// response_url) is not lost when the channel the user started in cannot
// take it (the bot is not in it, it is private to the bot or archived):
// it is then shown to the user in the incident channel, where the bot
// posts anyway, and the request's later answers go there too. (A DM would
// need conversations.open and the im:write scope.)
func (b *Bot) answer(ctx context.Context, r *request, msg string, blocks ...slack.Block) error {
	err := b.ephemeral(ctx, r, msg, blocks...)
	if err == nil || r.responseURL != "" || b.inc == nil || r.channelID == b.inc.channel || !channelUnusable(err) {
		return err
	}
	b.log.Info("could not answer in the channel the user started in; answering in the incident channel",
		append(r.fields(), zap.String("incident_channel", b.inc.channel), zap.Error(err))...)
	r.channelID = b.inc.channel
	return b.ephemeral(ctx, r, msg, blocks...)
}

// afterSubmission wraps h, the work after a modal submission was acked, so
// that its failure reaches the user too: adapt would tell it in the
// channel the user started in only, where a submission's answer may be
// lost (see answer). The failure is logged and told here.
func (b *Bot) afterSubmission(name string, h handlerFunc) handlerFunc {
	return func(ctx context.Context, r *request) error {
		err := h(ctx, r)
		if err == nil {
			return nil
		}
		var msg string
		var ue *userError
		if errors.As(err, &ue) {
			msg = ue.msg
			b.log.Info("refused", append(r.fields(), zap.String("handler", name), zap.String("reason", ue.msg))...)
		} else {
			b.log.Error("handler failed", append(r.fields(), zap.String("handler", name), zap.Error(err))...)
			msg = say(b.texts(), templates.OpsError, templates.NoData{})
		}
		replyCtx, cancel := tellContext(ctx)
		defer cancel()
		if aerr := b.answer(replyCtx, r, msg); aerr != nil {
			return fmt.Errorf("%w; telling the user failed too: %w", err, aerr)
		}
		return nil
	}
}

// incidentFieldErrors maps problems by field onto the modal's blocks; a
// problem with a field the modal does not show goes under the user impact.
func incidentFieldErrors(problems map[string]string) map[string]string {
	out := map[string]string{}
	fields := make([]string, 0, len(problems))
	for f := range problems {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		block, msg := f, problems[f]
		if !incidentInputBlocks[block] {
			block, msg = blockUserImpact, f+": "+msg
		}
		if prev, ok := out[block]; ok {
			msg = prev + "; " + msg
		}
		out[block] = truncate(msg, 2000)
	}
	return out
}

// announce runs the announcement and tells the user; a status page
// failure gets the Retry button.
func (b *Bot) announce(ctx context.Context, r *request, in incident.Incident, key string) error {
	inc, created, err := b.inc.desk.For(in.Environment).Announce(ctx, in, key)
	if err != nil && inc.ID == 0 {
		var ve *opsbot.ValidationError
		if errors.As(err, &ve) {
			return userErr(say(b.texts(), templates.IncidentInvalid, templates.Problem{Problem: Escape(ve.Error())}))
		}
		if errors.Is(err, opsbot.ErrNotRecorded) {
			b.log.Error("an incident was not announced: the store failed", append(r.fields(), zap.Error(err))...)
			return userErr(say(b.texts(), templates.IncidentNotRecorded, templates.Incident{Channel: in.Channel}))
		}
		return fmt.Errorf("announcing an incident: %w", err)
	}
	if created {
		b.opts.Metrics.Incident("announced")
	}
	if err != nil {
		// Recorded; a step after it failed: told below, with a Retry.
		b.log.Warn("a step of an announcement failed", zap.Int64("incident", inc.ID), zap.Error(err))
	}
	// What was recorded is told even when a shutdown cancelled the work.
	ctx, cancel := tellContext(ctx)
	defer cancel()
	tx := b.texts()
	link := b.announcementLink(ctx, inc)
	if inc.AnnouncementLags() {
		return b.incidentOutcome(ctx, r, inc, "", err)
	}
	if !created {
		return b.incidentOutcome(ctx, r, inc, say(tx, templates.IncidentAlreadyForAnomaly, templates.Incident{
			ID: inc.ID, AnomalyID: inc.AnomalyID, Link: link,
		}), err)
	}
	if inc.AnomalyID != 0 {
		b.tellAnomalyThread(ctx, inc, r.userID, link)
	}
	msg := say(tx, templates.IncidentAnnounced, templates.Incident{ID: inc.ID, Channel: inc.Channel, Link: link})
	if inc.StatusPage.State == incident.StatusPageOpen {
		msg += " " + say(tx, templates.IncidentOnStatusPage, templates.NoData{})
	}
	return b.incidentOutcome(ctx, r, inc, msg, err)
}

// incidentOutcome tells the user what was done (done, mrkdwn; may be
// empty) and what a failure left undone: the announcement not posted, or
// not edited to show the resolution (a Retry button that finishes every
// step, the status page's included), the status page (its Retry button).
// err is the failure, for its reason (Slack's error code).
func (b *Bot) incidentOutcome(ctx context.Context, r *request, inc incident.Incident, done string, err error) error {
	msg, blocks := outcomeMessage(b.texts(), inc, done, err)
	return b.answer(ctx, r, msg, blocks...)
}

// outcomeMessage is incidentOutcome's answer: its text, and its blocks
// with a Retry button (retryBlocks) when a step is left to retry, else
// none.
func outcomeMessage(tx texts, inc incident.Incident, done string, err error) (string, []slack.Block) {
	var lines []string
	if done != "" {
		lines = append(lines, done)
	}
	var btn *slack.ButtonBlockElement
	if inc.AnnouncementLags() {
		id := strconv.FormatInt(inc.ID, 10)
		if inc.State == incident.Open {
			lines = append(lines, say(tx, templates.IncidentPostFailed, templates.Incident{
				ID: inc.ID, Channel: inc.Channel, Reason: slackReason(tx, err),
			}))
			btn = slack.NewButtonBlockElement(ActionRetryIncident, id, plain("Retry announcement"))
		} else {
			lines = append(lines, say(tx, templates.IncidentEditFailed, templates.Incident{ID: inc.ID, Reason: slackReason(tx, err)}))
			btn = slack.NewButtonBlockElement(ActionRetryIncident, id, plain("Retry"))
		}
	}
	if inc.StatusPage.NeedsRetry(inc.State) {
		lines = append(lines, say(tx, templates.IncidentStatusPageFailed, templates.Problem{
			Problem: escapeLine(inc.StatusPage.LastError, 300),
		}))
		if btn == nil {
			btn = slack.NewButtonBlockElement(ActionRetryStatusPage, strconv.FormatInt(inc.ID, 10), plain("Retry"))
		}
	}
	msg := strings.Join(lines, "\n")
	if btn == nil {
		return msg, nil
	}
	return msg, retryBlocks(msg, inc.ID, btn)
}

// slackReason says, for the user, why a Slack call failed: Slack's error
// code, or what went wrong on the way. Other errors (the store's) are in
// the logs.
func slackReason(tx texts, err error) string {
	var (
		se     slack.SlackErrorResponse
		sc     slack.StatusCodeError
		rl     *slack.RateLimitedError
		reason templates.SlackReason
	)
	switch {
	case err == nil:
		reason.None = true
	case errors.As(err, &se):
		reason.Code = Escape(truncate(se.Err, 60))
	case errors.As(err, &rl):
		reason.RateLimited = true
	case errors.As(err, &sc):
		reason.HTTPStatus = sc.Code
	case errors.Is(err, context.DeadlineExceeded):
		reason.TimedOut = true
	}
	return say(tx, templates.IncidentSlackReason, reason)
}

// tellAnomalyThread links the announcement from the anomaly's thread.
func (b *Bot) tellAnomalyThread(ctx context.Context, inc incident.Incident, user, link string) {
	a, err := b.triage.Get(ctx, inc.AnomalyID)
	if err != nil || !a.HasThread() {
		return
	}
	msg := say(b.texts(), templates.IncidentLinkedInThread, templates.Incident{
		ID: inc.ID, By: b.names.display(ctx, user), Channel: inc.Channel, Link: link,
	})
	if _, _, err := b.api.PostMessageContext(ctx, a.Channel, slack.MsgOptionTS(a.ThreadTS),
		slack.MsgOptionText(msg, false)); err != nil {
		b.log.Warn("could not link the incident from the anomaly's thread", zap.Int64("incident", inc.ID),
			zap.Int64("anomaly", a.ID), zap.Error(err))
	}
}

// announcementLink is a mrkdwn link to the incident's announcement.
func (b *Bot) announcementLink(ctx context.Context, inc incident.Incident) string {
	if inc.MessageTS == "" {
		return announcementLinkText(b.texts(), inc, "")
	}
	return announcementLinkText(b.texts(), inc, b.permalink(ctx, inc.Channel, inc.MessageTS))
}

// announcementLinkText is announcementLink given the announcement's
// permalink ("" when Slack gave none).
func announcementLinkText(tx texts, inc incident.Incident, permalink string) string {
	data := templates.AnnouncementLink{Posted: inc.MessageTS != "", Channel: inc.Channel}
	if data.Posted && permalink != "" {
		data.Link = Link(permalink, "announcement")
	}
	return say(tx, templates.IncidentAnnouncementLink, data)
}

// --- status page ---------------------------------------------------------------

// handleRetryStatusPage is the Retry button: RetryStatusPage, which
// creates the status page incident once (by its key) or resolves it.
func (b *Bot) handleRetryStatusPage(ctx context.Context, r *request) error {
	inc, err := b.retryButtonIncident(ctx, r, "update the status page")
	if err != nil {
		return err
	}
	id := inc.ID
	inc, err = b.inc.desk.For(inc.Environment).RetryStatusPage(ctx, id)
	if errors.Is(err, incident.ErrNoStatusPage) {
		return userErr(say(b.texts(), templates.IncidentNoStatusPage, templates.Env{Environment: Escape(inc.Environment)}))
	}
	if err != nil {
		return fmt.Errorf("retrying the status page of incident %d: %w", id, err)
	}
	if inc.StatusPage.NeedsRetry(inc.State) {
		return b.incidentOutcome(ctx, r, inc, "", nil)
	}
	return b.answer(ctx, r, statusPageDone(b.texts(), inc))
}

// handleRetryIncident is the Retry button of an announcement that could
// not be posted, or not edited to show the resolution: Service.Finish does
// every step left, the status page's included.
func (b *Bot) handleRetryIncident(ctx context.Context, r *request) error {
	inc, err := b.retryButtonIncident(ctx, r, "update incidents")
	if err != nil {
		return err
	}
	return b.finishIncident(ctx, r, inc)
}

// retryButtonIncident is what both Retry buttons do first: check the
// clicker may (verb), and read the incident whose id is the button's
// value.
func (b *Bot) retryButtonIncident(ctx context.Context, r *request, verb string) (incident.Incident, error) {
	if err := b.authorize(ctx, r, verb); err != nil {
		return incident.Incident{}, err
	}
	if err := b.needIncidents(); err != nil {
		return incident.Incident{}, err
	}
	id, err := strconv.ParseInt(r.action.Value, 10, 64)
	if err != nil {
		return incident.Incident{}, fmt.Errorf("retry button value %q: %w", r.action.Value, err)
	}
	inc, err := b.inc.desk.Target(ctx, incident.Ref{ID: id, Explicit: true})
	if err != nil {
		return incident.Incident{}, b.targetProblem(err)
	}
	return inc, nil
}

// finishIncident does the steps of incident inc that are left
// (Service.Finish: a Retry button) and tells the user what was done.
func (b *Bot) finishIncident(ctx context.Context, r *request, inc incident.Incident) error {
	out, err := b.inc.desk.For(inc.Environment).Finish(ctx, inc.ID)
	if err != nil {
		return fmt.Errorf("finishing incident %d: %w", inc.ID, err)
	}
	if out.StepErr != nil {
		b.log.Warn("a step of an incident failed again", zap.Int64("incident", inc.ID), zap.Error(out.StepErr))
	}
	return b.tellFinished(ctx, r, out.Incident, out.Finished, "", out.StepErr)
}

// tellFinished tells the user, after head (mrkdwn; may be empty), which
// of the steps left undone a call did (f) and what is still left
// (incidentOutcome); err is the failure of a step.
func (b *Bot) tellFinished(ctx context.Context, r *request, inc incident.Incident, f incident.Finished, head string, err error) error {
	tx := b.texts()
	var done []string
	if head != "" {
		done = append(done, head)
	}
	if f.Posted || f.Edited {
		link := b.announcementLink(ctx, inc)
		if f.Posted {
			done = append(done, say(tx, templates.IncidentAnnounced, templates.Incident{ID: inc.ID, Channel: inc.Channel, Link: link}))
			if inc.AnomalyID != 0 {
				b.tellAnomalyThread(ctx, inc, r.userID, link)
			}
		} else {
			done = append(done, say(tx, templates.IncidentEdited, templates.Incident{ID: inc.ID, Link: link}))
		}
	}
	if f.StatusPage {
		done = append(done, statusPageDone(tx, inc))
	}
	if len(done) == 0 && !inc.AnnouncementLags() && !inc.StatusPage.NeedsRetry(inc.State) {
		done = append(done, say(tx, templates.IncidentNothingLeft, templates.Incident{ID: inc.ID}))
	}
	return b.incidentOutcome(ctx, r, inc, strings.Join(done, " "), err)
}

// statusPageDone says the status page of inc is done with, and in which
// state.
func statusPageDone(tx texts, inc incident.Incident) string {
	return say(tx, templates.IncidentStatusPageDone, templates.Incident{ID: inc.ID, StatusPage: string(inc.StatusPage.State)})
}

// --- /ops update ----------------------------------------------------------------

func parseUpdate(b *Bot, r *request) string {
	if r.rest == "" {
		return say(b.texts(), templates.IncidentUpdateNeedsText, templates.Incident{})
	}
	return ""
}

// handleUpdate is `/ops update [id] <text>`: the update goes in the
// incident's thread and on its status page. Slash commands carry no
// thread, so the incident is the one open incident, or the one named.
func (b *Bot) handleUpdate(ctx context.Context, r *request) error {
	if err := b.authorize(ctx, r, "update incidents"); err != nil {
		return err
	}
	if err := b.needIncidents(); err != nil {
		return err
	}
	inc, body, err := b.inc.desk.UpdateTarget(ctx, r.rest)
	var several *incident.SeveralOpenError
	if errors.As(err, &several) {
		tx := b.texts()
		lines := []string{say(tx, templates.IncidentWhichUpdate, templates.Count{Count: len(several.Open)})}
		for _, inc := range several.Open {
			lines = append(lines, b.incidentLine(ctx, inc))
		}
		return b.answer(ctx, r, lines[0], packSections(tx, lines, maxMessageBlocks)...)
	}
	if err != nil {
		return b.targetProblem(err)
	}
	id := inc.ID
	got, upd, err := b.inc.desk.For(inc.Environment).AddUpdate(ctx, id,
		incident.Update{Text: body, By: r.userID, Public: true}, "update:"+r.idem)
	if err != nil {
		var ve *opsbot.ValidationError
		switch {
		case errors.As(err, &ve):
			return userErr(say(b.texts(), templates.IncidentUpdateInvalid, templates.Problem{Problem: Escape(ve.Error())}))
		case errors.Is(err, opsbot.ErrConflict):
			return userErr(say(b.texts(), templates.IncidentNotOpen, templates.Incident{ID: id}))
		}
		return fmt.Errorf("updating incident %d: %w", id, err)
	}
	b.opts.Metrics.Incident("updated")
	tx := b.texts()
	done := say(tx, templates.IncidentUpdated, templates.Incident{ID: id, Link: b.announcementLink(ctx, got)})
	sp := got.StatusPage
	switch {
	case !sp.Enabled || !upd.Public:
	case got.StatusPage.NeedsRetry(got.State):
		return b.incidentOutcome(ctx, r, got, done, nil)
	case sp.State == incident.StatusPageOpen && sp.LastError != "":
		done += "\n" + say(tx, templates.IncidentUpdateStatusPageFailed, templates.Problem{Problem: escapeLine(sp.LastError, 300)})
	case sp.State == incident.StatusPageOpen:
		done += " " + say(tx, templates.IncidentUpdateOnStatusPage, templates.NoData{})
	}
	return b.ephemeral(ctx, r, done)
}

// --- /ops resolve ---------------------------------------------------------------

func parseResolve(b *Bot, r *request) string {
	if len(r.args) > 3 {
		return say(b.texts(), templates.IncidentResolveTooManyArgs, templates.NoData{})
	}
	_, err := incident.ParseResolveArgs(r.args, b.opts.Now(), b.opts.Location)
	return inputProblem(b.texts(), err)
}

// targetProblem tells the user why a command has no incident to act on
// (the errors of incident.Desk's Target and UpdateTarget); other errors
// are returned as they are.
func (b *Bot) targetProblem(err error) error {
	var (
		nf *incident.NotFoundError
		no *incident.NotOpenError
		nt *incident.NoTextError
	)
	tx := b.texts()
	switch {
	case errors.As(err, &nf):
		return userErr(say(tx, templates.IncidentNotFound, templates.Incident{ID: nf.ID}))
	case errors.As(err, &no) && no.Incident.State == incident.Resolved:
		return userErr(b.alreadyResolved(no.Incident))
	case errors.As(err, &no):
		return userErr(say(tx, templates.IncidentNotOpen, templates.Incident{ID: no.Incident.ID}))
	case errors.Is(err, incident.ErrNoneOpen):
		return userErr(say(tx, templates.IncidentNoneOpen, templates.NoData{}))
	case errors.As(err, &nt):
		return userErr(say(tx, templates.IncidentUpdateNeedsText, templates.Incident{ID: nt.ID}))
	}
	return err
}

// inputProblem says why the words of a command could not be read ("" for
// no error).
func inputProblem(tx texts, err error) string {
	var (
		re *incident.RefOrTimeError
		te *incident.TimeError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &re):
		return say(tx, templates.IncidentNotIDOrTime, templates.BadInput{Input: Escape(truncate(re.Word, 30))})
	case errors.As(err, &te):
		return say(tx, templates.IncidentNotATime, templates.BadInput{
			Input: Escape(truncate(te.Input, 40)), Location: Escape(te.Location.String()),
		})
	}
	return say(tx, templates.IncidentInvalid, templates.Problem{Problem: Escape(err.Error())})
}

// handleResolve is `/ops resolve [id] [time]`: with one open incident (or
// the one named) it resolves it; with several, it lists them with a
// Resolve button each.
func (b *Bot) handleResolve(ctx context.Context, r *request) error {
	if err := b.authorize(ctx, r, "resolve incidents"); err != nil {
		return err
	}
	if err := b.needIncidents(); err != nil {
		return err
	}
	ra, err := incident.ParseResolveArgs(r.args, b.opts.Now(), b.inc.loc)
	if err != nil {
		return userErr(inputProblem(b.texts(), err))
	}
	inc, err := b.inc.desk.Target(ctx, ra.Ref)
	var several *incident.SeveralOpenError
	if errors.As(err, &several) {
		head, blocks := resolveList(b.texts(), several.Open, ra.Until, func(inc incident.Incident) string { return b.incidentLine(ctx, inc) })
		return b.answer(ctx, r, head, blocks...)
	}
	if err != nil {
		return b.targetProblem(err)
	}
	return b.resolve(ctx, r, inc, ra.Until)
}

// resolveList is `/ops resolve`'s answer when several incidents are open:
// its text and the list with a Resolve button each (resolving at until;
// zero: when clicked), each incident shown as line(inc).
func resolveList(tx texts, open []incident.Incident, until time.Time, line func(incident.Incident) string) (string, []slack.Block) {
	head := say(tx, templates.IncidentWhichResolve, templates.Count{Count: len(open)})
	var rows []resolveRow
	for _, inc := range open {
		rows = append(rows, resolveRow{ID: inc.ID, Line: line(inc), Value: resolveValue(inc.ID, until)})
	}
	return head, resolveListBlocks(tx, head, rows)
}

// handleResolveClick is a Resolve button of that list.
func (b *Bot) handleResolveClick(ctx context.Context, r *request) error {
	if err := b.authorize(ctx, r, "resolve incidents"); err != nil {
		return err
	}
	if err := b.needIncidents(); err != nil {
		return err
	}
	idText, untilText, _ := strings.Cut(r.action.Value, "/")
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return fmt.Errorf("resolve button value %q: %w", r.action.Value, err)
	}
	var until time.Time
	if untilText != "" {
		sec, err := strconv.ParseInt(untilText, 10, 64)
		if err != nil {
			return fmt.Errorf("resolve button value %q: %w", r.action.Value, err)
		}
		until = time.Unix(sec, 0)
	}
	inc, err := b.inc.desk.Target(ctx, incident.Ref{ID: id, Explicit: true})
	if err != nil {
		return b.targetProblem(err)
	}
	return b.resolve(ctx, r, inc, until)
}

func resolveValue(id int64, until time.Time) string {
	v := strconv.FormatInt(id, 10)
	if !until.IsZero() {
		v += "/" + strconv.FormatInt(until.Unix(), 10)
	}
	return v
}

// resolve resolves inc at until (zero: now) and tells the user what
// incident.Service.Resolve did: resolved it; or nothing, as it was
// resolved already, but the steps a failure of the first resolve left
// undone (the edit of the announcement, the status page) were done now;
// or why it refused.
func (b *Bot) resolve(ctx context.Context, r *request, inc incident.Incident, until time.Time) error {
	out, err := b.inc.desk.For(inc.Environment).Resolve(ctx, inc.ID, until, r.userID, "resolve:"+r.idem)
	if err != nil {
		return b.resolveRefused(inc.ID, err)
	}
	got := out.Incident
	if out.Changed {
		b.opts.Metrics.Incident("resolved")
	}
	if out.StepErr != nil {
		// Resolved; a step after it failed: told below, with a Retry.
		b.log.Warn("a step of a resolution failed", zap.Int64("incident", got.ID), zap.Error(out.StepErr))
	}
	if !out.Changed {
		if !out.Finished.Lagged {
			return b.answer(ctx, r, b.alreadyResolved(got))
		}
		head := say(b.texts(), templates.IncidentWasResolved, templates.Incident{
			ID: got.ID, Until: incident.FormatTime(got.Until, b.inc.loc), By: b.KnownName(got.ResolvedBy),
		})
		return b.tellFinished(ctx, r, got, out.Finished, head, out.StepErr)
	}
	tx := b.texts()
	done := say(tx, templates.IncidentResolved, templates.Incident{
		ID: got.ID, Duration: incident.FormatDuration(got.Duration()), Link: b.announcementLink(ctx, got),
	})
	if got.StatusPage.State == incident.StatusPageResolved {
		done += " " + say(tx, templates.IncidentResolvedOnStatusPage, templates.NoData{})
	}
	return b.incidentOutcome(ctx, r, got, done, out.StepErr)
}

func (b *Bot) alreadyResolved(inc incident.Incident) string {
	return say(b.texts(), templates.IncidentAlreadyResolved, templates.Incident{
		ID: inc.ID, Until: incident.FormatTime(inc.Until, b.inc.loc), By: b.KnownName(inc.ResolvedBy),
	})
}

// resolveRefused tells the user why Service.Resolve refused to resolve
// incident id; other errors are returned as they are.
func (b *Bot) resolveRefused(id int64, err error) error {
	var (
		ue *incident.UntilError
		ve *opsbot.ValidationError
	)
	tx := b.texts()
	switch {
	case errors.As(err, &ue) && ue.BeforeStart:
		return userErr(say(tx, templates.IncidentUntilBeforeFrom, templates.Incident{
			ID: ue.IncidentID, Until: incident.FormatTime(ue.Until, b.inc.loc), From: incident.FormatTime(ue.From, b.inc.loc),
		}))
	case errors.As(err, &ue):
		return userErr(say(tx, templates.IncidentUntilFuture, templates.Incident{
			ID: ue.IncidentID, Until: incident.FormatTime(ue.Until, b.inc.loc),
		}))
	case errors.As(err, &ve):
		return userErr(say(tx, templates.IncidentInvalid, templates.Problem{Problem: Escape(ve.Error())}))
	}
	return fmt.Errorf("resolving incident %d: %w", id, err)
}

// incidentLine is one open incident in a list.
func (b *Bot) incidentLine(ctx context.Context, inc incident.Incident) string {
	return incidentLineText(b.texts(), inc, b.inc.loc, b.announcementLink(ctx, inc))
}

// incidentLineText is incidentLine with times in loc and link, the
// announcement's (announcementLink).
func incidentLineText(tx texts, inc incident.Incident, loc *time.Location, link string) string {
	return say(tx, templates.IncidentLine, templates.Incident{
		ID: inc.ID, Environment: Escape(inc.Environment), From: incident.FormatTime(inc.From, loc),
		UserImpact: escapeLine(inc.UserImpact, 120), Link: link,
	})
}

// --- decision follow-ups ---------------------------------------------------------

// followUpText renders the runbook's follow-up of a decision from the
// templates (triage.followup.<decision>; triage.followup.runbook, the
// runbook's sentence, when that renders empty); the decider is escaped
// already.
func (d decisionTexts) followUpText(rec triage.DecisionRecord, decider string) string {
	data := templates.FollowUp{
		Decision: Escape(rec.Decision.Label()), DecidedBy: decider, Conclusion: Escape(rec.Conclusion),
		ToCollect: Escape(rec.ToCollect), UsersAffected: Escape(oneLine(rec.UsersAffected)), Outage: rec.Outage,
		Runbook: Escape(rec.Decision.Runbook()),
	}
	if rec.Ticket != "" {
		data.Ticket = Link(rec.Ticket, "")
	}
	if rec.Dashboard != "" {
		data.Dashboard = Link(rec.Dashboard, "")
	}
	tx := d.tx()
	name := rec.Decision.FollowUpTemplate()
	var err error
	if t, ok := templates.Lookup[templates.FollowUp](name); ok {
		var s string
		if s, err = templates.Render(tx.set, t, data); err == nil && strings.TrimSpace(s) != "" {
			return s
		}
	}
	d.log.Warn("could not render a follow-up; using the runbook's sentence", zap.String("template", name), zap.Error(err))
	return say(tx, templates.TriageFollowUpRunbook, data)
}

// decisionExtraBlocks are what the incident procedure adds to the thread
// reply of a decision: the Announce incident button after a Serious one.
func (d decisionTexts) decisionExtraBlocks(anomalyID int64, decision triage.Decision) []slack.Block {
	if decision != triage.Serious || !d.announce {
		return nil
	}
	return []slack.Block{announceButtonBlock(anomalyID)}
}
