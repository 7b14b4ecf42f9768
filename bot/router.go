package bot

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opsbot/opsbot/templates"
	"github.com/opsbot/opsbot/triage"
)

// Interaction ids: the action_id of every button and the callback_id of
// every modal the bot renders. They are registered in routes, where a
// duplicate fails start-up.
const (
	// ActionInvestigate is the Investigate button under a finding; its
	// value is "<run id>/<finding index>".
	ActionInvestigate = "checklist.investigate"
	// ActionDecidePrefix + Decision.String() is a decision button on an
	// anomaly's root message; its value is the anomaly id.
	ActionDecidePrefix = "triage.decide."
	// CallbackDecision is the decision modal.
	CallbackDecision = "triage.decision"
)

// DecideActionID is the action_id of decision d's button.
func DecideActionID(d triage.Decision) string { return ActionDecidePrefix + d.String() }

type actionRoute struct {
	name string
	h    handlerFunc
}

type viewRoute struct {
	name string
	h    viewHandlerFunc
	// busyBlock is the input block that shows "busy" when the pool is full.
	busyBlock string
}

type commandRoute struct {
	name string
	// usage is the syntax shown in help.
	usage string
	// parse checks the words after the subcommand and fills the request;
	// it returns a message for the user when they are not right.
	parse func(b *Bot, r *request) (problem string)
	h     handlerFunc
	long  bool // runs the checklist: ChecklistTimeout instead of HandlerTimeout
}

func (c commandRoute) timeout(b *Bot) time.Duration {
	if c.long {
		return b.opts.ChecklistTimeout
	}
	return b.opts.HandlerTimeout
}

// routeTable collects routes; a duplicate id is an error.
type routeTable struct {
	actions  map[string]actionRoute
	views    map[string]viewRoute
	commands map[string]commandRoute
	dups     []string
}

func newRouteTable() *routeTable {
	return &routeTable{actions: map[string]actionRoute{}, views: map[string]viewRoute{}, commands: map[string]commandRoute{}}
}

func (t *routeTable) action(id, name string, h handlerFunc) {
	if _, ok := t.actions[id]; ok {
		t.dups = append(t.dups, "action_id "+id)
	}
	t.actions[id] = actionRoute{name: name, h: h}
}

func (t *routeTable) view(id, name, busyBlock string, h viewHandlerFunc) {
	if _, ok := t.views[id]; ok {
		t.dups = append(t.dups, "callback_id "+id)
	}
	t.views[id] = viewRoute{name: name, h: h, busyBlock: busyBlock}
}

func (t *routeTable) command(c commandRoute) {
	if _, ok := t.commands[c.name]; ok {
		t.dups = append(t.dups, "command "+c.name)
	}
	t.commands[c.name] = c
}

func (t *routeTable) err() error {
	if len(t.dups) > 0 {
		return fmt.Errorf("duplicate routes: %s", strings.Join(t.dups, ", "))
	}
	return nil
}

// routes registers every command, action and view in one place.
func (b *Bot) routes() (map[string]actionRoute, map[string]viewRoute, map[string]commandRoute, error) {
	t := newRouteTable()
	t.action(ActionInvestigate, "investigate", b.handleInvestigate)
	for _, d := range triage.Decisions {
		t.action(DecideActionID(d), "decide", b.handleDecideClick)
	}
	t.view(CallbackDecision, "decision", blockConclusion, b.handleDecisionSubmit)
	t.action(ActionExpireSilence, "silence-expire", b.handleExpireSilence)
	t.action(ActionRetrySilence, "silence-retry", b.handleRetrySilence)
	t.action(ActionExtendSilence, "silence-extend", b.handleExtendSilence)
	t.action(ActionAcknowledgeHandover, "handover-acknowledge", b.handleAcknowledgeHandover)

	t.command(commandRoute{name: "checklist", usage: "checklist [environment]", parse: parseChecklist, h: b.handleChecklist, long: true})
	t.command(commandRoute{name: "anomaly", usage: "anomaly <title>", parse: parseAnomaly, h: b.handleManualAnomaly})
	t.command(commandRoute{name: "status", usage: "status", parse: parseNoArgs, h: b.handleStatus})
	t.command(commandRoute{name: "noise", usage: "noise [days]", parse: parseNoise, h: b.handleNoise})
	t.command(commandRoute{name: "tip", usage: "tip <pattern> <text> | tip list | tip remove <id>", parse: parseTip, h: b.handleTip})
	t.command(commandRoute{name: "history", usage: "history <words>", parse: parseHistory, h: b.handleHistory})
	t.command(commandRoute{name: "handover", usage: "handover", parse: parseNoArgs, h: b.handleHandover})
	b.incidentRoutes(t)
	if err := t.err(); err != nil {
		return nil, nil, nil, err
	}
	return t.actions, t.views, t.commands, nil
}

// routeCommand parses `/ops <text>`. It returns the route to run, or nil
// and the message to show (usage, unknown command, bad arguments): then
// nothing else happens. Text containing a character that changes the
// direction of text (isBidiControl) is refused whole, naming the
// character: a title or an update that reads differently from what it
// says is never recorded, whatever the subcommand.
func (b *Bot) routeCommand(txt string, r *request) (*commandRoute, string) {
	if i := strings.IndexFunc(txt, isBidiControl); i >= 0 {
		c, _ := utf8.DecodeRuneInString(txt[i:])
		return nil, say(b.texts(), templates.OpsDirectionControl, templates.Character{
			Code: fmt.Sprintf("U+%04X", c), Name: bidiNames[c],
		}) + "\n\n" + b.usage()
	}
	fields := words(txt)
	if len(fields) == 0 || strings.EqualFold(fields[0], "help") {
		return nil, b.usage()
	}
	sub := strings.ToLower(fields[0])
	route, ok := b.commands[sub]
	if !ok {
		unknown := say(b.texts(), templates.OpsUnknown, templates.Command{Command: Escape(truncate(fields[0], 50))})
		return nil, unknown + "\n\n" + b.usage()
	}
	r.args = fields[1:]
	r.rest = strings.TrimSpace(strings.TrimSpace(txt)[len(fields[0]):])
	if problem := route.parse(b, r); problem != "" {
		return nil, problem + "\n\n" + b.usage()
	}
	return &route, ""
}

func (b *Bot) usage() string {
	return say(b.texts(), templates.OpsUsage, templates.Usage{Environments: Escape(strings.Join(b.opts.Environments, ", "))})
}

// unknownEnvironment says that word is not one of the environments.
func (b *Bot) unknownEnvironment(word string) string {
	return say(b.texts(), templates.ChecklistUnknownEnvironment, templates.UnknownEnvironment{
		Environment: Escape(truncate(word, 50)), Environments: Escape(strings.Join(b.opts.Environments, ", ")),
	})
}

func parseChecklist(b *Bot, r *request) string {
	switch len(r.args) {
	case 0:
		if b.opts.DefaultEnvironment == "" {
			return say(b.texts(), templates.ChecklistWhichEnvironment, templates.NoData{})
		}
		r.args = []string{b.opts.DefaultEnvironment}
	case 1:
		if !slices.Contains(b.opts.Environments, r.args[0]) {
			return b.unknownEnvironment(r.args[0])
		}
	default:
		return say(b.texts(), templates.OpsAtMostOneEnvironment, templates.Command{Command: "checklist"})
	}
	return ""
}

func parseAnomaly(b *Bot, r *request) string {
	if r.rest == "" {
		return say(b.texts(), templates.TriageNeedsTitle, templates.NoData{})
	}
	if n := len([]rune(r.rest)); n > triage.MaxTitleLen {
		return say(b.texts(), templates.TriageTitleTooLong, templates.TooLong{Length: n, Max: triage.MaxTitleLen})
	}
	return ""
}

func parseNoArgs(b *Bot, r *request) string {
	if len(r.args) > 0 {
		return say(b.texts(), templates.OpsNoArguments, templates.NoData{})
	}
	return ""
}

// bidiNames are the Unicode names of the characters isBidiControl reports,
// for the refusal of a command containing one.
var bidiNames = map[rune]string{
	0x061C: "ARABIC LETTER MARK",
	0x200E: "LEFT-TO-RIGHT MARK",
	0x200F: "RIGHT-TO-LEFT MARK",
	0x202A: "LEFT-TO-RIGHT EMBEDDING",
	0x202B: "RIGHT-TO-LEFT EMBEDDING",
	0x202C: "POP DIRECTIONAL FORMATTING",
	0x202D: "LEFT-TO-RIGHT OVERRIDE",
	0x202E: "RIGHT-TO-LEFT OVERRIDE",
	0x2066: "LEFT-TO-RIGHT ISOLATE",
	0x2067: "RIGHT-TO-LEFT ISOLATE",
	0x2068: "FIRST STRONG ISOLATE",
	0x2069: "POP DIRECTIONAL ISOLATE",
}
