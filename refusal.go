package opsbot

import "time"

// Refusal is one refused Slack request, as the audit record keeps it: who
// (UserID, with the workspace and enterprise the payload named), what
// (Action: opsbot's own name of the command, button or modal, never the
// user's text), where (Channel), when (At) and why (Reason, one of the
// Reason* constants). Key is the request's idempotency key, made of Slack
// ids that stay the same when the request is delivered again, so that a
// redelivery is recorded once.
type Refusal struct {
	Key          string
	At           time.Time
	UserID       string
	TeamID       string
	EnterpriseID string
	Channel      string
	Action       string
	Reason       string
}

// Why a request is refused: the values of Refusal.Reason.
const (
	// ReasonWorkspace: the payload is from another workspace than the
	// bot's.
	ReasonWorkspace = "workspace"
	// ReasonEnterprise: the payload's enterprise id is not the bot's
	// Enterprise Grid organization (or is missing, or is there when the
	// workspace is in none).
	ReasonEnterprise = "enterprise"
	// ReasonApp: the payload names another app (api_app_id).
	ReasonApp = "app"
	// ReasonChannel: the request comes from a channel outside the allowed
	// channels.
	ReasonChannel = "channel"
	// ReasonDirectMessage: the request comes from a direct message and
	// direct messages are not allowed.
	ReasonDirectMessage = "direct_message"
	// ReasonNotDecider: the user is not one of the deciders.
	ReasonNotDecider = "not_decider"
)

// Reasons lists every Refusal.Reason.
var Reasons = []string{ReasonWorkspace, ReasonEnterprise, ReasonApp, ReasonChannel, ReasonDirectMessage, ReasonNotDecider}

// Validate checks a refusal before it is recorded: a key, a valid time, a
// known reason, an action, and short, storable ids.
func (r Refusal) Validate() error {
	v := Validator{What: "refusal"}
	v.Required("key", r.Key, MaxIDLen)
	v.Time("at", r.At)
	v.Required("action", r.Action, MaxIDLen)
	for _, f := range []struct{ name, value string }{
		{"userID", r.UserID}, {"teamID", r.TeamID}, {"enterpriseID", r.EnterpriseID}, {"channel", r.Channel},
	} {
		v.Text(f.name, f.value, MaxIDLen)
	}
	known := false
	for _, k := range Reasons {
		known = known || r.Reason == k
	}
	if !known {
		v.Add("reason", "want one of %v, got %q", Reasons, r.Reason)
	}
	return v.Err()
}
