package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

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
func incidentModal(tx texts, f incidentForm, p incidentPrefill, now time.Time, loc *time.Location, channel string, statusPage bool) slack.ModalViewRequest {
	form := templates.AnnounceForm{Environment: Escape(f.Env), Channel: channel}
	if a := p.Anomaly; a != nil {
		form.AnomalyID, form.AnomalyTitle = a.ID, escapeLine(a.Title, 150)
		if p.AnomalyLink != "" {
			form.Thread = Link(p.AnomalyLink, "thread")
		}
	}
	intro := say(tx, templates.IncidentModalIntro, form)
	hint := func(t templates.Text[templates.NoData]) string { return say(tx, t, templates.NoData{}) }
	date := slack.NewDatePickerBlockElement(blockFrom)
	date.InitialDate = now.In(loc).Format("2006-01-02")
	tp := slack.NewTimePickerBlockElement(blockFromTime)
	tp.InitialTime = now.In(loc).Format("15:04")
	tp.Timezone = loc.String()
	fromDate := slack.NewInputBlock(blockFrom, plain("From (date)"), plain(hint(templates.IncidentHintFrom)), date)
	fromTime := slack.NewInputBlock(blockFromTime, plain("From (time, "+loc.String()+")"), nil, tp)

	blocks := []slack.Block{
		section(intro),
		fromDate,
		fromTime,
		longInput(blockUserImpact, "User impact", hint(templates.IncidentHintUserImpact), p.UserImpact, incident.MaxUserImpactLen),
		longInput(blockWhat, "What", hint(templates.IncidentHintWhat), p.What, incident.MaxWhatLen),
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
func readIncidentState(tx texts, st *slack.ViewState, loc *time.Location) (incidentInput, map[string]string) {
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
		problems[blockFrom] = say(tx, templates.IncidentFormRequired, templates.NoData{})
	case t == "":
		problems[blockFromTime] = say(tx, templates.IncidentFormRequired, templates.NoData{})
	default:
		from, err := time.ParseInLocation("2006-01-02 15:04", d+" "+t, loc)
		if err != nil {
			problems[blockFrom] = say(tx, templates.IncidentFormNotATime, templates.DateTime{Date: d, Time: t})
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
func resolveListBlocks(tx texts, head string, rows []resolveRow) []slack.Block {
	blocks := []slack.Block{section(head)}
	for i, row := range rows {
		if i == maxMessageBlocks-2 {
			blocks = append(blocks, contextText(say(tx, templates.ChecklistMore, templates.Count{Count: len(rows) - i})))
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
