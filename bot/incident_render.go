package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/triage"
)

// Texts of the incident procedure, by name (the messages in Slack's
// channels come from the templates package: incident.announce,
// incident.update, incident.resolved_suffix, incident.closing). Printf
// formats filled with escaped values.
const (
	tIncNotSetUp          = "incident.notSetUp"
	tIncAnnounced         = "incident.announced"
	tIncOnStatusPage      = "incident.onStatusPage"
	tIncAlreadyForAnomaly = "incident.alreadyForAnomaly"
	tIncLinkedInThread    = "incident.linkedInThread"
	tIncInvalid           = "incident.invalid"
	tIncStatusPageFailed  = "incident.statusPageFailed"
	tIncStatusPageDone    = "incident.statusPageDone"
	tIncNoStatusPage      = "incident.noStatusPage"
	tIncNotFound          = "incident.notFound"
	tIncNotOpen           = "incident.notOpen"
	tIncNoneOpen          = "incident.noneOpen"
	tIncWhichUpdate       = "incident.whichUpdate"
	tIncWhichResolve      = "incident.whichResolve"
	tIncLine              = "incident.line"
	tIncUpdated           = "incident.updated"
	tIncUpdateOnSP        = "incident.updateOnStatusPage"
	tIncUpdateSPFailed    = "incident.updateStatusPageFailed"
	tIncUpdateInvalid     = "incident.updateInvalid"
	tIncResolved          = "incident.resolved"
	tIncResolvedOnSP      = "incident.resolvedOnStatusPage"
	tIncAlreadyResolved   = "incident.alreadyResolved"
	tIncUntilBeforeFrom   = "incident.untilBeforeFrom"
	tIncUntilFuture       = "incident.untilFuture"
	tIncPostFailed        = "incident.postFailed"
	tIncEditFailed        = "incident.editFailed"
	tIncEdited            = "incident.edited"
	tIncWasResolved       = "incident.wasResolved"
	tIncNothingLeft       = "incident.nothingLeft"
	tIncNotIDOrTime       = "incident.notIdOrTime"
	tIncNotATime          = "incident.notATime"
)

var incidentTexts = map[string]string{
	tIncNotSetUp:          "Incidents are not set up in this opsbot (no incident store).",
	tIncAnnounced:         ":pager: Announced incident #%d in <#%s>: %s.",
	tIncOnStatusPage:      "It is on the status page.",
	tIncAlreadyForAnomaly: "Incident #%d is already announced for anomaly #%d: %s",
	tIncLinkedInThread:    ":pager: Incident #%d announced by %s in <#%s>: %s",
	tIncInvalid:           "I can't do that: %s",
	tIncStatusPageFailed:  ":warning: status page failed: %s — Retry?",
	tIncStatusPageDone:    "Status page of incident #%d: done, %s.",
	tIncNoStatusPage:      "No status page is configured for *%s* any more; nothing to retry.",
	tIncNotFound:          "There is no incident #%d.",
	tIncNotOpen:           "Incident #%d is not open.",
	tIncNoneOpen:          "No incident is open. (`/ops incident` announces one.)",
	tIncWhichUpdate:       "%d incidents are open; say which one: `/ops update <id> <text>`.",
	tIncWhichResolve:      "%d incidents are open; which one is over?",
	tIncLine:              "• #%d *%s* since %s — %s · %s",
	tIncUpdated:           ":memo: Posted the update of incident #%d in its thread (%s).",
	tIncUpdateOnSP:        "It is on the status page too.",
	tIncUpdateSPFailed:    ":warning: The status page update failed: %s (the update is in Slack).",
	tIncUpdateInvalid:     "I can't post that update: %s",
	tIncResolved:          ":white_check_mark: Resolved incident #%d after %s (%s).",
	tIncResolvedOnSP:      "Resolved on the status page too.",
	tIncAlreadyResolved:   "Incident #%d was already resolved at %s (by %s); nothing changed.",
	tIncUntilBeforeFrom:   "%s is before incident #%d started (%s): the end must not be before the start.",
	tIncUntilFuture:       "%s is in the future: resolve it when it is over.",
	tIncPostFailed: ":warning: Incident #%d is recorded, but its announcement could not be posted in <#%s> (%s). " +
		"Retry announcement? (Announcing it again would make a second incident.)",
	tIncEditFailed:  ":warning: The announcement of incident #%d could not be edited to show it resolved (%s). Retry?",
	tIncEdited:      ":white_check_mark: The announcement of incident #%d now shows it resolved (%s).",
	tIncWasResolved: "Incident #%d was already resolved at %s (by %s).",
	tIncNothingLeft: "Incident #%d: nothing left to do.",
	tIncNotIDOrTime: "`%s` is neither an incident id nor a time (14:05, or 2026-11-24 14:05).",
	tIncNotATime:    "`%s` is not a time: say 14:05, or 2026-11-24 14:05 (%s).",
}

// itext formats the incident text named name with args.
func itext(name string, args ...any) string {
	f, ok := incidentTexts[name]
	if !ok {
		return fmt.Sprintf("[missing text %s]", name)
	}
	if len(args) == 0 {
		return f
	}
	return fmt.Sprintf(f, args...)
}

// The announcement modal's input blocks: block_id (and action_id) is the
// field name incident's ValidationError uses, so errors map onto them.
const (
	blockFrom       = "from"     // datepicker: the day the impact started
	blockFromTime   = "fromTime" // timepicker: the time, in the bot's zone
	blockUserImpact = "userImpact"
	blockWhat       = "what"
	blockStatusPage = "statusPage"
	optionRaise     = "raise"
)

var incidentInputBlocks = map[string]bool{
	blockFrom: true, blockFromTime: true, blockUserImpact: true, blockWhat: true, blockStatusPage: true,
}

// incidentForm is the modal's private_metadata: the environment, the
// anomaly it comes from (0: none) and the channel the user started in
// (where the answers go): "prod|12|C0123".
type incidentForm struct {
	Env       string
	AnomalyID int64
	Channel   string
}

func (f incidentForm) metadata() string {
	return f.Env + "|" + strconv.FormatInt(f.AnomalyID, 10) + "|" + f.Channel
}

func parseIncidentForm(s string) (incidentForm, error) {
	parts := strings.Split(s, "|")
	if len(parts) != 3 || parts[0] == "" {
		return incidentForm{}, fmt.Errorf("bad private_metadata %q", s)
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || id < 0 {
		return incidentForm{}, fmt.Errorf("bad private_metadata %q", s)
	}
	return incidentForm{Env: parts[0], AnomalyID: id, Channel: parts[2]}, nil
}

// incidentPrefill is what the modal starts with.
type incidentPrefill struct {
	UserImpact  string
	What        string
	Anomaly     *triage.Anomaly
	AnomalyLink string
}

// incidentModal asks for the runbook's announcement: From (date and time,
// default now, in loc), User impact, What, and whether to raise it on the
// status page (when the environment has one; checked by default).
func incidentModal(f incidentForm, p incidentPrefill, now time.Time, loc *time.Location, channel string, statusPage bool) slack.ModalViewRequest {
	intro := fmt.Sprintf("*Announce an incident* in *%s*: the runbook's announcement goes to <#%s>.", Escape(f.Env), channel)
	if a := p.Anomaly; a != nil {
		ref := fmt.Sprintf("anomaly #%d *%s*", a.ID, escapeLine(a.Title, 150))
		if p.AnomalyLink != "" {
			ref += " (" + Link(p.AnomalyLink, "thread") + ")"
		}
		intro += "\nFrom " + ref + "."
	}
	date := slack.NewDatePickerBlockElement(blockFrom)
	date.InitialDate = now.In(loc).Format("2006-01-02")
	tp := slack.NewTimePickerBlockElement(blockFromTime)
	tp.InitialTime = now.In(loc).Format("15:04")
	tp.Timezone = loc.String()
	fromDate := slack.NewInputBlock(blockFrom, plain("From (date)"), plain("When did the user impact start?"), date)
	fromTime := slack.NewInputBlock(blockFromTime, plain("From (time, "+loc.String()+")"), nil, tp)

	blocks := []slack.Block{
		section(intro),
		fromDate,
		fromTime,
		longInput(blockUserImpact, "User impact", "What can users not do, and how many of them?", p.UserImpact, incident.MaxUserImpactLen),
		longInput(blockWhat, "What", "What is failing, as far as we know.", p.What, incident.MaxWhatLen),
	}
	if statusPage {
		opt := slack.NewOptionBlockObject(optionRaise, plain("Raise it on the status page"), nil)
		box := slack.NewCheckboxGroupsBlockElement(blockStatusPage, opt)
		box.InitialOptions = []*slack.OptionBlockObject{opt}
		in := slack.NewInputBlock(blockStatusPage, plain("Status page"), nil, box)
		in.Optional = true
		blocks = append(blocks, in)
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plain("Announce an incident"),
		Submit:          plain("Announce"),
		Close:           plain("Cancel"),
		CallbackID:      CallbackIncident,
		PrivateMetadata: f.metadata(),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

func longInput(block, label, hint, initial string, max int) *slack.InputBlock {
	el := slack.NewPlainTextInputBlockElement(nil, block)
	el.Multiline = true
	el.MaxLength = max
	el.InitialValue = initial
	return slack.NewInputBlock(block, plain(label), plain(hint), el)
}

// incidentInput is what the modal was submitted with.
type incidentInput struct {
	from       time.Time
	userImpact string
	what       string
	statusPage bool
}

// readIncidentState reads the modal's inputs; problems are by field
// (block id) for the ones that cannot be read.
func readIncidentState(st *slack.ViewState, loc *time.Location) (incidentInput, map[string]string) {
	var in incidentInput
	problems := map[string]string{}
	if st == nil {
		st = &slack.ViewState{}
	}
	get := func(block string) slack.BlockAction {
		return st.Values[block][block]
	}
	in.userImpact = get(blockUserImpact).Value
	in.what = get(blockWhat).Value
	if sp, ok := st.Values[blockStatusPage][blockStatusPage]; ok {
		for _, o := range sp.SelectedOptions {
			if o.Value == optionRaise {
				in.statusPage = true
			}
		}
	}
	d, t := get(blockFrom).SelectedDate, get(blockFromTime).SelectedTime
	switch {
	case d == "":
		problems[blockFrom] = "required"
	case t == "":
		problems[blockFromTime] = "required"
	default:
		from, err := time.ParseInLocation("2006-01-02 15:04", d+" "+t, loc)
		if err != nil {
			problems[blockFrom] = "not a date and time: " + d + " " + t
		} else {
			in.from = from
		}
	}
	return in, problems
}

// retryBlocks is a failure message of incident id with its Retry button
// (block_id "retry/<id>").
func retryBlocks(msg string, id int64, btn *slack.ButtonBlockElement) []slack.Block {
	btn.Style = slack.StylePrimary
	return []slack.Block{section(clip(msg, maxSectionText)), slack.NewActionBlock("retry/"+strconv.FormatInt(id, 10), btn)}
}

// resolveRow is one open incident in `/ops resolve`'s list.
type resolveRow struct {
	ID    int64
	Line  string // mrkdwn, escaped
	Value string // the Resolve button's value
}

// resolveListBlocks lists open incidents with a Resolve button each
// (block_id "resolve/<id>").
func resolveListBlocks(head string, rows []resolveRow) []slack.Block {
	blocks := []slack.Block{section(head)}
	for i, row := range rows {
		if i == maxMessageBlocks-2 {
			blocks = append(blocks, contextText(text(tChecklistMore, len(rows)-i)))
			break
		}
		btn := slack.NewButtonBlockElement(ActionResolveIncident, row.Value, plain("Resolve"))
		btn.Style = slack.StyleDanger
		s := slack.NewSectionBlock(mrkdwn(clip(row.Line, maxSectionText)), nil, slack.NewAccessory(btn))
		s.BlockID = "resolve/" + strconv.FormatInt(row.ID, 10)
		blocks = append(blocks, s)
	}
	return blocks
}

// announceButtonBlock is the Announce incident button under a Serious
// decision's reply.
func announceButtonBlock(anomalyID int64) slack.Block {
	btn := slack.NewButtonBlockElement(ActionAnnounceIncident, strconv.FormatInt(anomalyID, 10), plain("Announce incident"))
	btn.Style = slack.StyleDanger
	return slack.NewActionBlock("announce", btn)
}
