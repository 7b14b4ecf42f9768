package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

const (
	// ActionExpireSilence is the Expire silence button under a silence
	// made for a Noise decision; its value is the anomaly's id.
	ActionExpireSilence = "triage.silence.expire"
	// ActionRetrySilence is the Retry button under a silence that could
	// not be made; its value is silenceOrderValue's.
	ActionRetrySilence = "triage.silence.retry"
	// ActionExtendSilence is the Extend button under a silence made for a
	// Noise decision: it extends the silence by the length it was made
	// for. Its value is the anomaly's id.
	ActionExtendSilence = "triage.silence.extend"

	// The Noise modal's silence inputs.
	blockSilenceFor   = "silence_for"
	blockSilenceUntil = "silence_until"
	blockSilenceWiden = "silence_widen"
	// noSilence is the "Don't silence" option's value.
	noSilence = "none"
	// silenceUntil is the "until a date" option's value: the silence ends
	// when the day picked in blockSilenceUntil ends.
	silenceUntil = "until"
)

// silenceLengths are the lengths the Noise modal offers, in its order.
var silenceLengths = []struct {
	value, label string
	d            time.Duration
}{
	{"2h", "2 hours", 2 * time.Hour},
	{"24h", "24 hours", 24 * time.Hour},
	{"7d", "7 days", 7 * 24 * time.Hour},
}

// silenceLength is the length of the option value v; false for "Don't
// silence" and unknown values.
func silenceLength(v string) (time.Duration, bool) {
	for _, l := range silenceLengths {
		if l.value == v {
			return l.d, true
		}
	}
	return 0, false
}

// silenceChoice is what the Noise modal asks of a silence: a length from
// now, or an end (until a date); neither for no silence.
type silenceChoice struct {
	length time.Duration
	until  time.Time
	value  string // the option's value
	widen  bool
}

// none reports whether the choice is not to silence.
func (c silenceChoice) none() bool { return c.length == 0 && c.until.IsZero() }

// endsAt is when the silence chosen ends, made at now.
func (c silenceChoice) endsAt(now time.Time) time.Time {
	if !c.until.IsZero() {
		return c.until
	}
	return now.Add(c.length)
}

// silenceChoiceFromState reads the Noise modal's silence inputs. With
// "until a date", the silence ends when the day picked ends in loc; that
// end must be after now and at most maxLength after it, else the problem
// is returned for the date's block, and nothing is silenced (nor decided).
// A date picked with another option is not used: the option says.
func silenceChoiceFromState(st *slack.ViewState, now time.Time, loc *time.Location, maxLength time.Duration) (silenceChoice, map[string]string) {
	if st == nil {
		return silenceChoice{}, nil
	}
	var c silenceChoice
	if a, ok := st.Values[blockSilenceFor][blockSilenceFor]; ok {
		v := a.SelectedOption.Value
		if d, ok := silenceLength(v); ok {
			c.length, c.value = d, v
		} else if v == silenceUntil {
			until, problem := silenceUntilDay(st.Values[blockSilenceUntil][blockSilenceUntil].SelectedDate, now, loc, maxLength)
			if problem != "" {
				return silenceChoice{}, map[string]string{blockSilenceUntil: problem}
			}
			c.until, c.value = until, "@"+strconv.FormatInt(until.Unix(), 10)
		}
	}
	if a, ok := st.Values[blockSilenceWiden][blockSilenceWiden]; ok && len(a.SelectedOptions) > 0 {
		c.widen = true
	}
	return c, nil
}

// silenceUntilDay is the end of the day date ("2006-01-02") in loc, or the
// problem with it: none picked, in the past, or more than maxLength after
// now.
func silenceUntilDay(date string, now time.Time, loc *time.Location, maxLength time.Duration) (time.Time, string) {
	if date == "" {
		return time.Time{}, "Pick the day the silence ends."
	}
	day, err := time.ParseInLocation(time.DateOnly, date, loc)
	if err != nil {
		return time.Time{}, fmt.Sprintf("%q is not a date.", truncate(date, 20))
	}
	end := day.AddDate(0, 0, 1)
	switch {
	case !end.After(now):
		return time.Time{}, fmt.Sprintf("%s has passed: pick today or a later day.", date)
	case end.Sub(now) > maxLength:
		return time.Time{}, fmt.Sprintf("%s is too far ahead: a silence lasts at most %s, until %s at the latest.",
			date, triage.LengthText(maxLength), now.Add(maxLength).In(loc).AddDate(0, 0, -1).Format(time.DateOnly))
	}
	return end, ""
}

// joinMatchers is ms in Alertmanager's syntax, comma separated, escaped.
func joinMatchers(ms []triage.Matcher) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.String()
	}
	return Escape(strings.Join(s, ", "))
}

// silenceModalBlocks are the Noise modal's silence inputs for anomaly a:
// none unless a came from alerts (it has labels). The context line shows
// the matchers the silence will use, and those it uses widened.
func silenceModalBlocks(tx texts, a triage.Anomaly) []slack.Block {
	if len(a.Labels) == 0 {
		return nil
	}
	var data templates.SilenceMatchers
	narrow, err := triage.SilenceMatchers(a.Labels, false)
	if err != nil {
		data.Problem = Escape(problemText(err))
	} else {
		data.Matchers = joinMatchers(narrow)
	}
	wide, werr := triage.SilenceMatchers(a.Labels, true)
	if werr == nil && len(wide) != len(narrow) {
		data.Widened = joinMatchers(wide)
	}
	none := slack.NewOptionBlockObject(noSilence, plain("Don't silence"), nil)
	opts := []*slack.OptionBlockObject{none}
	for _, l := range silenceLengths {
		opts = append(opts, slack.NewOptionBlockObject(l.value, plain(l.label), nil))
	}
	opts = append(opts, slack.NewOptionBlockObject(silenceUntil, plain("until a date"), nil))
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, blockSilenceFor, opts...)
	sel.InitialOption = none
	in := slack.NewInputBlock(blockSilenceFor, plain("Silence it for"), nil, sel)
	in.Optional = true
	until := slack.NewInputBlock(blockSilenceUntil, plain("Silence until"),
		plain(say(tx, templates.TriageHintSilenceUntil, templates.NoData{})),
		slack.NewDatePickerBlockElement(blockSilenceUntil))
	until.Optional = true
	blocks := []slack.Block{in, until,
		slack.NewContextBlock("silence_matchers", mrkdwn(clip(say(tx, templates.TriageSilenceMatchers, data), maxSectionText)))}
	if data.Widened != "" {
		box := slack.NewCheckboxGroupsBlockElement(blockSilenceWiden,
			slack.NewOptionBlockObject("widen", plain(say(tx, templates.TriageOptionWiden, templates.NoData{})), nil))
		w := slack.NewInputBlock(blockSilenceWiden, plain("Scope"), nil, box)
		w.Optional = true
		blocks = append(blocks, w)
	}
	return blocks
}

// problemText is a validation error's problems, without its prefix.
func problemText(err error) string {
	var ve *opsbot.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	p := make([]string, len(ve.Problems))
	for i, x := range ve.Problems {
		p[i] = x.Problem
	}
	return strings.Join(p, "; ")
}

// silenceOrderValue is the Retry button's value: the anomaly, the length
// ("24h") or the end ("@<unix seconds>") and the scope asked for.
func silenceOrderValue(id int64, c silenceChoice) string {
	w := ""
	if c.widen {
		w = "widen"
	}
	return strconv.FormatInt(id, 10) + ":" + c.value + ":" + w
}

func parseSilenceOrderValue(s string) (int64, silenceChoice, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, silenceChoice{}, fmt.Errorf("silence button value %q", s)
	}
	id, err := strconv.ParseInt(parts[0], 10, 64)
	c := silenceChoice{value: parts[1], widen: parts[2] == "widen"}
	d, ok := silenceLength(parts[1])
	c.length = d
	if end, found := strings.CutPrefix(parts[1], "@"); found {
		sec, perr := strconv.ParseInt(end, 10, 64)
		c.until, ok = time.Unix(sec, 0), perr == nil && sec > 0
	}
	if err != nil || id <= 0 || !ok || (parts[2] != "" && parts[2] != "widen") {
		return 0, silenceChoice{}, fmt.Errorf("silence button value %q", s)
	}
	return id, c, nil
}

// silence makes the silence c asks for on anomaly id's Noise decision
// (triage.Service.Silence, idempotent on key) and says in the anomaly's
// thread what came of it: the silence with an Expire button, or why it
// could not be made with a Retry button. The decision is never changed.
func (b *Bot) silence(ctx context.Context, r *request, id int64, c silenceChoice, key string) error {
	tx := b.texts()
	a, err := b.triage.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("silencing anomaly %d: %w", id, err)
	}
	o := triage.SilenceOrder{EndsAt: c.endsAt(b.opts.Now()), AcrossNamespaces: c.widen, By: r.userID, ByName: r.userName}
	if o.ByName == "" {
		o.ByName = r.userID
	}
	if a.HasThread() {
		o.ThreadLink = b.permalink(ctx, a.Channel, a.ThreadTS)
	}
	_, sil, err := b.triage.Silence(ctx, id, o, key)
	var msg string
	var blocks []slack.Block
	if err == nil {
		msg, blocks = silencedReply(tx, b.opts.Location, id, sil, 0)
	} else {
		b.log.Warn("could not silence a Noise decision", zap.Int64("anomaly", id), zap.Error(err))
		msg, blocks = silenceFailedReply(tx, id, c, err)
	}
	return b.tellThread(ctx, r, a, msg, blocks)
}

// silencedReply is the thread reply to silence sil made for anomaly id's
// decision, extended extended times, with its Extend and Expire buttons;
// times are shown in loc.
func silencedReply(tx texts, loc *time.Location, id int64, sil triage.Silence, extended int) (string, []slack.Block) {
	msg := say(tx, templates.TriageSilenced, templates.Silenced{AnomalyID: id, ID: Escape(sil.ID),
		Until: sil.EndsAt.In(loc).Format("Mon 2 Jan 15:04 MST"), Matchers: joinMatchers(sil.Matchers), Extended: extended})
	v := strconv.FormatInt(id, 10)
	return msg, []slack.Block{section(clip(msg, maxSectionText)), slack.NewActionBlock("silence/"+v,
		slack.NewButtonBlockElement(ActionExtendSilence, v, plain("Extend")),
		slack.NewButtonBlockElement(ActionExpireSilence, v, plain("Expire silence")))}
}

// silenceEndedReply is the silence message of anomaly id once its silence
// m was seen ended (expired by by, escaped, or ran out), without buttons.
func silenceEndedReply(tx texts, loc *time.Location, id int64, m triage.SilenceMark, by string) (string, []slack.Block) {
	msg := say(tx, templates.TriageSilenceEnded, templates.SilenceEnded{AnomalyID: id, ID: Escape(m.ID),
		At: m.EndedAt.In(loc).Format("Mon 2 Jan 15:04 MST"), By: by, RanOut: m.RanOut(), Extended: m.Extensions})
	return msg, []slack.Block{section(clip(msg, maxSectionText))}
}

// silenceFailedReply is the thread reply when the silence c asked for
// anomaly id could not be made (err), with a Retry button unless retrying
// cannot help (the alert cannot be silenced as it is, the environment has
// no Alertmanager, the decision changed).
func silenceFailedReply(tx texts, id int64, c silenceChoice, err error) (string, []slack.Block) {
	msg := say(tx, templates.TriageSilenceFailed, templates.SilenceFailed{AnomalyID: id,
		Reason: Escape(truncate(problemText(err), 1000))})
	blocks := []slack.Block{section(clip(msg, maxSectionText))}
	var ve *opsbot.ValidationError
	if !errors.As(err, &ve) && !errors.Is(err, triage.ErrNoSilencer) && !errors.Is(err, opsbot.ErrConflict) {
		blocks = append(blocks, slack.NewActionBlock("silence-retry/"+strconv.FormatInt(id, 10),
			slack.NewButtonBlockElement(ActionRetrySilence, silenceOrderValue(id, c), plain("Retry"))))
	}
	return msg, blocks
}

// tellThread posts msg in anomaly a's thread, or answers r when a has no
// thread or the post fails.
func (b *Bot) tellThread(ctx context.Context, r *request, a triage.Anomaly, msg string, blocks []slack.Block) error {
	if a.HasThread() {
		_, _, err := b.api.PostMessageContext(ctx, a.Channel, slack.MsgOptionTS(a.ThreadTS),
			slack.MsgOptionText(msg, false), slack.MsgOptionBlocks(blocks...))
		if err == nil {
			return nil
		}
		b.log.Warn("could not post in an anomaly's thread", zap.Int64("anomaly", a.ID), zap.Error(err))
	}
	return b.answer(ctx, r, msg, blocks...)
}

// handleRetrySilence is the Retry button under a silence that could not
// be made: the same order again, from now.
func (b *Bot) handleRetrySilence(ctx context.Context, r *request) error {
	if err := b.authorize(ctx, r, "silence alerts"); err != nil {
		return err
	}
	id, c, err := parseSilenceOrderValue(r.action.Value)
	if err != nil {
		return err
	}
	return b.silence(ctx, r, id, c, r.idem)
}

// silenceButtonID is the anomaly id an Extend or Expire button carries.
func silenceButtonID(r *request) (int64, error) {
	id, err := strconv.ParseInt(r.action.Value, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("silence button value %q: %w", r.action.Value, errors.Join(err, errBadValue))
	}
	return id, nil
}

// updateClicked replaces the message whose button r is, in place; a
// failure is logged: what it says is recorded, and said elsewhere.
func (b *Bot) updateClicked(ctx context.Context, r *request, msg string, blocks []slack.Block) {
	channel, ts := r.cb.Container.ChannelID, r.cb.Container.MessageTs
	if channel == "" {
		channel = r.channelID
	}
	if ts == "" || r.cb.Container.IsEphemeral {
		return
	}
	if err := b.update(ctx, channel, ts, slack.MsgOptionText(msg, false), slack.MsgOptionBlocks(blocks...)); err != nil {
		b.log.Warn("could not update a silence message", append(r.fields(), zap.Error(err))...)
	}
}

// handleExpireSilence is the Expire silence button: it ends the silence of
// the anomaly's current decision, records it, says so in the thread and
// shows it in the silence message in place of the buttons. A silence that
// had already run out is shown as such.
func (b *Bot) handleExpireSilence(ctx context.Context, r *request) error {
	if err := b.authorize(ctx, r, "expire silences"); err != nil {
		return err
	}
	id, err := silenceButtonID(r)
	if err != nil {
		return err
	}
	tx := b.texts()
	a, ended, err := b.triage.ExpireSilence(ctx, id, r.userID, r.idem)
	switch {
	case errors.Is(err, triage.ErrNotFound):
		return userErr(say(tx, templates.TriageStale, templates.Anomaly{ID: id}))
	case errors.Is(err, triage.ErrNoSilence):
		return userErr(say(tx, templates.TriageNoSilence, templates.Anomaly{ID: id}))
	case err != nil:
		return err
	}
	m := *a.Decision.Silence
	by := ""
	if !m.RanOut() {
		by = b.names.display(ctx, m.EndedBy)
	}
	msg, blocks := silenceEndedReply(tx, b.opts.Location, id, m, by)
	b.updateClicked(ctx, r, msg, blocks)
	if !ended {
		return nil // seen ended before, and said then
	}
	if !m.RanOut() {
		msg = say(tx, templates.TriageSilenceExpired, templates.Silenced{AnomalyID: id, ID: Escape(m.ID), By: by})
		blocks = []slack.Block{section(msg)}
	}
	return b.tellThread(ctx, r, a, msg, blocks)
}

// handleExtendSilence is the Extend button: it extends the silence of the
// anomaly's current decision by the length it was made for (at most
// Options.MaxSilence from now) and shows the new end, and how often it
// was extended, in the silence message. A silence that has ended is shown
// as such; what could not be done is said to the user, and changes
// nothing.
func (b *Bot) handleExtendSilence(ctx context.Context, r *request) error {
	if err := b.authorize(ctx, r, "extend silences"); err != nil {
		return err
	}
	id, err := silenceButtonID(r)
	if err != nil {
		return err
	}
	tx := b.texts()
	a, sil, err := b.triage.ExtendSilence(ctx, id, r.userID, b.opts.Now().Add(b.opts.MaxSilence), r.idem)
	switch {
	case errors.Is(err, triage.ErrNotFound):
		return userErr(say(tx, templates.TriageStale, templates.Anomaly{ID: id}))
	case errors.Is(err, triage.ErrNoSilence):
		return userErr(say(tx, templates.TriageNoSilence, templates.Anomaly{ID: id}))
	case errors.Is(err, triage.ErrSilenceEnded) && a.Decision != nil && a.Decision.Silence != nil:
		m := *a.Decision.Silence
		by := ""
		if !m.RanOut() {
			by = b.names.display(ctx, m.EndedBy)
		}
		msg, blocks := silenceEndedReply(tx, b.opts.Location, id, m, by)
		b.updateClicked(ctx, r, msg, blocks)
		return userErr(say(tx, templates.TriageNotExtended, templates.SilenceFailed{AnomalyID: id, Reason: msg}))
	case err != nil:
		b.log.Warn("could not extend a silence", append(r.fields(), zap.Int64("anomaly", id), zap.Error(err))...)
		return userErr(say(tx, templates.TriageNotExtended, templates.SilenceFailed{AnomalyID: id,
			Reason: Escape(truncate(problemText(err), 1000))}))
	}
	msg, blocks := silencedReply(tx, b.opts.Location, id, sil, a.Decision.Silence.Extensions)
	b.updateClicked(ctx, r, msg, blocks)
	return nil
}
