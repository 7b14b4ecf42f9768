package triage

import (
	"fmt"
	"strings"
)

// Decision is how an investigation ends: one of the runbook's five outcomes.
// The zero value is not a decision; Validate rejects it.
type Decision int

// The five decisions of the runbook.
const (
	NotEnoughInformation Decision = iota + 1
	Intermittent
	Serious
	Noise
	Undetermined
)

// Decisions lists every decision in the runbook's order (for menus).
var Decisions = []Decision{NotEnoughInformation, Intermittent, Serious, Noise, Undetermined}

type decisionInfo struct {
	key, label, runbook string
}

var decisionInfos = [...]decisionInfo{
	NotEnoughInformation: {"not_enough_information", "Not enough information",
		"Say what extra information to collect, and open tickets to collect it."},
	Intermittent: {"intermittent", "Intermittent",
		"Nothing to do now; it is escalated if it happens again."},
	Serious: {"serious", "Serious",
		"Say how many users are affected and how; if it is an outage, announce an incident."},
	Noise: {"noise", "Noise",
		"Eliminate it in code or integrations, make sure it is on a dashboard, and open tickets."},
	Undetermined: {"undetermined", "Undetermined",
		"Collaborate with others to decide."},
}

func (d Decision) valid() bool { return d >= NotEnoughInformation && d <= Undetermined }

// String returns the decision's stable key, as stored and as used in
// template names: "not_enough_information", "intermittent", "serious",
// "noise", "undetermined".
func (d Decision) String() string {
	if !d.valid() {
		return fmt.Sprintf("Decision(%d)", int(d))
	}
	return decisionInfos[d].key
}

// Label is the decision as people read it: "Not enough information".
func (d Decision) Label() string {
	if !d.valid() {
		return d.String()
	}
	return decisionInfos[d].label
}

// Runbook is the runbook's follow-up for the decision, in one sentence: the
// default text when no template overrides it.
func (d Decision) Runbook() string {
	if !d.valid() {
		return ""
	}
	return decisionInfos[d].runbook
}

// FollowUpTemplate is the name of the message template for the decision's
// follow-up, e.g. "triage.followup.noise".
func (d Decision) FollowUpTemplate() string {
	return "triage.followup." + d.String()
}

// Closes reports whether the decision closes the anomaly: Intermittent,
// Serious and Noise do; NotEnoughInformation and Undetermined leave it open
// because someone still has work to do before it is decided.
func (d Decision) Closes() bool {
	return d == Intermittent || d == Serious || d == Noise
}

// ParseDecision is the inverse of String. It also accepts the label, in any
// case ("Not enough information").
func ParseDecision(s string) (Decision, error) {
	t := strings.TrimSpace(s)
	for _, d := range Decisions {
		if t == d.String() || strings.EqualFold(t, d.Label()) {
			return d, nil
		}
	}
	keys := make([]string, len(Decisions))
	for i, d := range Decisions {
		keys[i] = d.String()
	}
	return 0, fmt.Errorf("unknown decision %q (want one of %s)", s, strings.Join(keys, ", "))
}

// MarshalText encodes a decision as its key.
func (d Decision) MarshalText() ([]byte, error) {
	if !d.valid() {
		return nil, fmt.Errorf("invalid decision %d", int(d))
	}
	return []byte(d.String()), nil
}

// UnmarshalText decodes a decision from its key (or label).
func (d *Decision) UnmarshalText(b []byte) error {
	v, err := ParseDecision(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
