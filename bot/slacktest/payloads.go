package slacktest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// PayloadOption changes a payload the fake sends, for example to make it
// come from another workspace or app so that the bot's rejection can be
// tested.
type PayloadOption func(*payloadOptions)

type payloadOptions struct {
	teamID, teamDomain, appID, enterpriseID string
	thenDisconnect                          string
}

// enterprise is an interaction's enterprise object: null outside Enterprise
// Grid.
func (o payloadOptions) enterprise() any {
	if o.enterpriseID == "" {
		return nil
	}
	return map[string]string{"id": o.enterpriseID, "name": enterpriseName(o.enterpriseID)}
}

// ThenDisconnect makes the fake send a `disconnect` frame with reason
// (ReasonWarning, ReasonRefreshRequested...) on the envelope's connection
// right after the envelope, so that the disconnect arrives while the
// envelope is in flight. As with Disconnect, a warning leaves the
// connection open (Slack refreshes it about 10 s later); other reasons
// close it.
func ThenDisconnect(reason string) PayloadOption {
	return func(o *payloadOptions) { o.thenDisconnect = reason }
}

// WithTeam makes the payload come from workspace teamID (team_id,
// team.id, user.team_id).
func WithTeam(teamID string) PayloadOption {
	return func(o *payloadOptions) {
		o.teamID = teamID
		o.teamDomain = "team-" + teamID
	}
}

// WithEnterprise makes the payload name Enterprise Grid organization
// enterpriseID (enterprise_id, enterprise.id; "" for none) instead of the
// server's (Options.EnterpriseID).
func WithEnterprise(enterpriseID string) PayloadOption {
	return func(o *payloadOptions) { o.enterpriseID = enterpriseID }
}

// WithAppID makes the payload name another app (api_app_id). Its trigger_id
// is then refused by views.open (invalid_trigger_id).
func WithAppID(appID string) PayloadOption {
	return func(o *payloadOptions) { o.appID = appID }
}

func (s *Server) payloadOptions(user *User, opts []PayloadOption) payloadOptions {
	o := payloadOptions{teamID: s.opts.TeamID, teamDomain: s.opts.TeamDomain, appID: s.opts.AppID, enterpriseID: s.opts.EnterpriseID}
	if user != nil && user.TeamID != "" && user.TeamID != s.opts.TeamID {
		o.teamID, o.teamDomain = user.TeamID, "team-"+user.TeamID
	}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// enterpriseName is the name Slack sends beside an enterprise id.
func enterpriseName(id string) string {
	if id == "" {
		return ""
	}
	return "Org " + id
}

// orNil is s, or JSON null when it is empty.
func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// defaultUserLocked is the first configured human user.
func (s *Server) defaultUserLocked() string {
	for _, id := range s.userOrder {
		if u := s.users[id]; !u.IsBot {
			return id
		}
	}
	return ""
}

func (s *Server) resolveUserLocked(id string) (*User, error) {
	if id == "" {
		id = s.defaultUserLocked()
	}
	u, ok := s.users[id]
	if !ok {
		return nil, fmt.Errorf("slacktest: unknown user %q (add it to Options.Users)", id)
	}
	return u, nil
}

type wireUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	TeamID   string `json:"team_id"`
}

type wireTeam struct {
	ID     string `json:"id"`
	Domain string `json:"domain"`
}

// Slash commands -----------------------------------------------------------------

// SlashCommand is a slash command a user types.
type SlashCommand struct {
	Command string // "/ops"
	Text    string
	// UserID defaults to the first configured human user, ChannelID to the
	// first configured channel.
	UserID    string
	ChannelID string
}

// SendSlashCommand delivers a slash_commands envelope and returns when the
// app acks it (the ack's payload, if any, is in Envelope.AckPayload and is
// shown to the user as Slack does: ephemeral unless response_type is
// "in_channel"). It returns ErrNoAck after the ack deadline and
// ErrNoConnection when no Socket Mode connection is open.
func (s *Server) SendSlashCommand(ctx context.Context, cmd SlashCommand, opts ...PayloadOption) (*Envelope, error) {
	s.mu.Lock()
	u, err := s.resolveUserLocked(cmd.UserID)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	chID := cmd.ChannelID
	if chID == "" && len(s.chanOrder) > 0 {
		chID = s.chanOrder[0]
	}
	ch, ok := s.channelLocked(chID)
	if !ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("slacktest: unknown channel %q", chID)
	}
	po := s.payloadOptions(u, opts)
	tid := s.newTriggerLocked(u.ID, po.appID, po.teamID)
	rurl, respond := s.newResponseURLLocked("commands", u.ID, ch.ID, "", "")
	// Field order and the string-typed is_enterprise_install follow a
	// payload Slack sent (slack-go issue #1265).
	payload := struct {
		Token               string `json:"token"`
		TeamID              string `json:"team_id"`
		TeamDomain          string `json:"team_domain"`
		EnterpriseID        string `json:"enterprise_id,omitempty"`
		EnterpriseName      string `json:"enterprise_name,omitempty"`
		ChannelID           string `json:"channel_id"`
		ChannelName         string `json:"channel_name"`
		UserID              string `json:"user_id"`
		UserName            string `json:"user_name"`
		Command             string `json:"command"`
		Text                string `json:"text"`
		APIAppID            string `json:"api_app_id"`
		IsEnterpriseInstall string `json:"is_enterprise_install"`
		ResponseURL         string `json:"response_url"`
		TriggerID           string `json:"trigger_id"`
	}{
		Token: s.opts.VerificationToken, TeamID: po.teamID, TeamDomain: po.teamDomain,
		EnterpriseID: po.enterpriseID, EnterpriseName: enterpriseName(po.enterpriseID), ChannelID: ch.ID, ChannelName: ch.Name, UserID: u.ID, UserName: u.Name,
		Command: cmd.Command, Text: cmd.Text, APIAppID: po.appID, IsEnterpriseInstall: "false",
		ResponseURL: rurl, TriggerID: tid,
	}
	e := &envState{
		Envelope: Envelope{Type: TypeSlashCommands, Payload: jsonCompact(payload), AcceptsResponsePayload: true, TriggerID: tid},
		respond:  respond,
	}
	e.thenDisconnect = po.thenDisconnect
	s.mu.Unlock()
	return s.send(ctx, e)
}

// Block actions -------------------------------------------------------------------

// ButtonClick says which button of which message a user clicks.
type ButtonClick struct {
	Channel   string
	MessageTS string
	ActionID  string
	// BlockID narrows the search when several blocks have the action_id.
	BlockID string
	// UserID defaults to the first configured human user.
	UserID string
}

// ClickButton delivers the block_actions payload of a click on a button of
// a message the fake holds, and returns when the app acks it. The action's
// block_id, value and text are taken from the message.
func (s *Server) ClickButton(ctx context.Context, click ButtonClick, opts ...PayloadOption) (*Envelope, error) {
	s.mu.Lock()
	u, err := s.resolveUserLocked(click.UserID)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	ch, ok := s.channelLocked(click.Channel)
	if !ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("slacktest: unknown channel %q", click.Channel)
	}
	m := s.findMessageLocked(ch.ID, click.MessageTS)
	if m == nil || m.Deleted {
		s.mu.Unlock()
		return nil, fmt.Errorf("slacktest: no message %s in %s", click.MessageTS, ch.ID)
	}
	blockID, button, found := findButton(m.Blocks, click.ActionID, click.BlockID)
	if !found {
		s.mu.Unlock()
		return nil, fmt.Errorf("slacktest: message %s has no button with action_id %q", m.TS, click.ActionID)
	}
	po := s.payloadOptions(u, opts)
	tid := s.newTriggerLocked(u.ID, po.appID, po.teamID)
	threadTS := ""
	if m.IsReply() {
		threadTS = m.ThreadTS
	}
	rurl, _ := s.newResponseURLLocked("actions", u.ID, ch.ID, m.TS, threadTS)
	action := map[string]any{
		"action_id": click.ActionID, "block_id": blockID, "text": button["text"],
		"type": "button", "action_ts": s.nextTSLocked(),
	}
	for _, k := range []string{"value", "style"} {
		if v, ok := button[k]; ok {
			action[k] = v
		}
	}
	container := map[string]any{"type": "message", "message_ts": m.TS, "channel_id": ch.ID, "is_ephemeral": false}
	if threadTS != "" {
		container["thread_ts"] = threadTS
	}
	// Field order follows the block_actions example of docs.slack.dev's
	// "Using Socket Mode".
	payload := struct {
		Type                string         `json:"type"`
		User                wireUser       `json:"user"`
		APIAppID            string         `json:"api_app_id"`
		Token               string         `json:"token"`
		Container           map[string]any `json:"container"`
		TriggerID           string         `json:"trigger_id"`
		Team                wireTeam       `json:"team"`
		Enterprise          any            `json:"enterprise"`
		IsEnterpriseInstall bool           `json:"is_enterprise_install"`
		Channel             map[string]any `json:"channel"`
		Message             wireMessage    `json:"message"`
		State               wireViewState  `json:"state"`
		ResponseURL         string         `json:"response_url"`
		Actions             []any          `json:"actions"`
	}{
		Type: "block_actions", User: wireUser{ID: u.ID, Username: u.Name, Name: u.Name, TeamID: po.teamID},
		APIAppID: po.appID, Token: s.opts.VerificationToken, Container: container, TriggerID: tid,
		Team: wireTeam{ID: po.teamID, Domain: po.teamDomain}, Enterprise: po.enterprise(),
		Channel: map[string]any{"id": ch.ID, "name": ch.Name},
		Message: s.wireMessageLocked(m, false), State: wireViewState{Values: map[string]map[string]any{}},
		ResponseURL: rurl, Actions: []any{action},
	}
	e := &envState{
		Envelope: Envelope{Type: TypeInteractive, Payload: jsonCompact(payload), AcceptsResponsePayload: true, TriggerID: tid},
	}
	e.thenDisconnect = po.thenDisconnect
	s.mu.Unlock()
	return s.send(ctx, e)
}

// findButton looks for a button with actionID in actions blocks and section
// accessories.
func findButton(blocks json.RawMessage, actionID, blockID string) (string, map[string]any, bool) {
	var list []map[string]any
	if json.Unmarshal(blocks, &list) != nil {
		return "", nil, false
	}
	for _, b := range list {
		bid, _ := b["block_id"].(string)
		if blockID != "" && bid != blockID {
			continue
		}
		var candidates []any
		if els, ok := b["elements"].([]any); ok && b["type"] == "actions" {
			candidates = els
		}
		if acc, ok := b["accessory"]; ok {
			candidates = append(candidates, acc)
		}
		for _, c := range candidates {
			el, ok := c.(map[string]any)
			if ok && el["type"] == "button" && el["action_id"] == actionID {
				return bid, el, true
			}
		}
	}
	return "", nil, false
}

// View submissions ------------------------------------------------------------------

// InputValue is what a user entered in one input element of a modal. Set
// the field that matches the element: Value for plain_text_input,
// number_input, email_text_input and url_text_input; SelectedOption (an
// option's value) for static_select and radio_buttons; SelectedOptions for
// multi_static_select and checkboxes; SelectedDate ("2006-01-02"),
// SelectedTime ("15:04"), SelectedUser(s), SelectedChannel(s),
// SelectedConversation(s) for the other pickers.
type InputValue struct {
	Value                 string
	SelectedOption        string
	SelectedOptions       []string
	SelectedDate          string
	SelectedTime          string
	SelectedUser          string
	SelectedUsers         []string
	SelectedChannel       string
	SelectedChannels      []string
	SelectedConversation  string
	SelectedConversations []string
}

// ViewValues are the inputs of a submitted modal: block_id -> action_id ->
// value.
type ViewValues map[string]map[string]InputValue

// SubmitView delivers the view_submission payload of the open modal viewID
// with values entered in its input blocks, and returns when the app acks.
// The ack is applied as Slack does: no response_action closes the modal,
// "errors" keeps it open with the errors (View.Errors), "update" replaces it,
// "push" stacks a new one, "clear" closes them all. Envelope.ViewAck decodes
// the ack. Values for blocks or actions the view does not have, and missing
// required inputs (which Slack's client would not let through), are errors.
func (s *Server) SubmitView(ctx context.Context, viewID string, values ViewValues, opts ...PayloadOption) (*Envelope, error) {
	s.mu.Lock()
	v, ok := s.views[viewID]
	if !ok || !v.open {
		s.mu.Unlock()
		return nil, fmt.Errorf("slacktest: no open view %q", viewID)
	}
	if st := s.stacks[v.user]; len(st) == 0 || st[len(st)-1] != viewID {
		s.mu.Unlock()
		return nil, fmt.Errorf("slacktest: view %s is not the top of %s's modal stack", viewID, v.user)
	}
	u, err := s.resolveUserLocked(v.user)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	state, err := viewState2Values(v.blocks, values)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	po := s.payloadOptions(u, opts)
	tid := s.newTriggerLocked(u.ID, po.appID, po.teamID)
	payload := struct {
		Type                string     `json:"type"`
		Team                wireTeam   `json:"team"`
		User                wireUser   `json:"user"`
		APIAppID            string     `json:"api_app_id"`
		Token               string     `json:"token"`
		TriggerID           string     `json:"trigger_id"`
		View                wireView   `json:"view"`
		ResponseURLs        []struct{} `json:"response_urls"`
		IsEnterpriseInstall bool       `json:"is_enterprise_install"`
		Enterprise          any        `json:"enterprise"`
	}{
		Type: "view_submission", Team: wireTeam{ID: po.teamID, Domain: po.teamDomain},
		User:     wireUser{ID: u.ID, Username: u.Name, Name: u.Name, TeamID: po.teamID},
		APIAppID: po.appID, Token: s.opts.VerificationToken, TriggerID: tid,
		View: s.wireViewLocked(v, state), ResponseURLs: []struct{}{}, Enterprise: po.enterprise(),
	}
	e := &envState{
		Envelope: Envelope{Type: TypeInteractive, Payload: jsonCompact(payload), AcceptsResponsePayload: true, TriggerID: tid},
		viewID:   viewID,
	}
	e.thenDisconnect = po.thenDisconnect
	s.mu.Unlock()
	return s.send(ctx, e)
}

// viewState2Values builds view.state.values: every input element of the
// view, with the entered value or null.
func viewState2Values(blocks []any, values ViewValues) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	used := map[string]map[string]bool{}
	for _, b := range blocks {
		bm, ok := b.(map[string]any)
		if !ok || bm["type"] != "input" {
			continue
		}
		blockID, _ := bm["block_id"].(string)
		el, _ := bm["element"].(map[string]any)
		actionID, _ := el["action_id"].(string)
		typ, _ := el["type"].(string)
		optional, _ := bm["optional"].(bool)
		in, given := values[blockID][actionID]
		if given {
			if used[blockID] == nil {
				used[blockID] = map[string]bool{}
			}
			used[blockID][actionID] = true
		}
		entry, filled, err := stateEntry(typ, el, in)
		if err != nil {
			return nil, fmt.Errorf("slacktest: block %q action %q: %w", blockID, actionID, err)
		}
		if !filled && !optional {
			return nil, fmt.Errorf("slacktest: required input %q/%q has no value (Slack's client would not submit)", blockID, actionID)
		}
		out[blockID] = map[string]any{actionID: entry}
	}
	for bid, acts := range values {
		for aid := range acts {
			if !used[bid][aid] {
				return nil, fmt.Errorf("slacktest: the view has no input %q/%q", bid, aid)
			}
		}
	}
	return out, nil
}

// stateEntry is one element's state value, shaped as Slack sends it.
func stateEntry(typ string, el map[string]any, in InputValue) (map[string]any, bool, error) {
	e := map[string]any{"type": typ}
	orNull := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	list := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	switch typ {
	case "plain_text_input", "number_input", "email_text_input", "url_text_input":
		e["value"] = orNull(in.Value)
		return e, in.Value != "", nil
	case "static_select", "radio_buttons", "external_select":
		if in.SelectedOption == "" {
			e["selected_option"] = nil
			return e, false, nil
		}
		opt, ok := findOption(el, in.SelectedOption)
		if !ok && typ != "external_select" {
			return nil, false, fmt.Errorf("no option with value %q", in.SelectedOption)
		}
		e["selected_option"] = opt
		return e, true, nil
	case "multi_static_select", "checkboxes", "multi_external_select":
		opts := []any{}
		for _, val := range in.SelectedOptions {
			opt, ok := findOption(el, val)
			if !ok && typ != "multi_external_select" {
				return nil, false, fmt.Errorf("no option with value %q", val)
			}
			opts = append(opts, opt)
		}
		e["selected_options"] = opts
		return e, len(opts) > 0, nil
	case "datepicker":
		e["selected_date"] = orNull(in.SelectedDate)
		return e, in.SelectedDate != "", nil
	case "timepicker":
		e["selected_time"] = orNull(in.SelectedTime)
		return e, in.SelectedTime != "", nil
	case "users_select":
		e["selected_user"] = orNull(in.SelectedUser)
		return e, in.SelectedUser != "", nil
	case "multi_users_select":
		e["selected_users"] = list(in.SelectedUsers)
		return e, len(in.SelectedUsers) > 0, nil
	case "channels_select":
		e["selected_channel"] = orNull(in.SelectedChannel)
		return e, in.SelectedChannel != "", nil
	case "multi_channels_select":
		e["selected_channels"] = list(in.SelectedChannels)
		return e, len(in.SelectedChannels) > 0, nil
	case "conversations_select":
		e["selected_conversation"] = orNull(in.SelectedConversation)
		return e, in.SelectedConversation != "", nil
	case "multi_conversations_select":
		e["selected_conversations"] = list(in.SelectedConversations)
		return e, len(in.SelectedConversations) > 0, nil
	default:
		e["value"] = orNull(in.Value)
		return e, in.Value != "", nil
	}
}

// findOption returns the option with value val of a select/radio/checkbox
// element (options or option_groups), or a bare option for external selects.
func findOption(el map[string]any, val string) (map[string]any, bool) {
	var all []any
	if opts, ok := el["options"].([]any); ok {
		all = append(all, opts...)
	}
	if groups, ok := el["option_groups"].([]any); ok {
		for _, g := range groups {
			if gm, ok := g.(map[string]any); ok {
				if opts, ok := gm["options"].([]any); ok {
					all = append(all, opts...)
				}
			}
		}
	}
	for _, o := range all {
		if om, ok := o.(map[string]any); ok && om["value"] == val {
			return om, true
		}
	}
	return map[string]any{"text": map[string]any{"type": "plain_text", "text": val}, "value": val}, false
}

// Events API ------------------------------------------------------------------------

// SendEvent delivers an events_api envelope whose payload is the Events API
// wrapper (type event_callback, a new event_id) around event, for example
// map[string]any{"type": "app_mention", "user": ..., "text": ..., "ts": ...,
// "channel": ...}. It returns when the app acks. Envelope.EventID is the
// event_id.
func (s *Server) SendEvent(ctx context.Context, event any, opts ...PayloadOption) (*Envelope, error) {
	raw, ok := event.(json.RawMessage)
	if !ok {
		b, err := json.Marshal(event)
		if err != nil {
			return nil, fmt.Errorf("slacktest: marshal event: %w", err)
		}
		raw = b
	}
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil || probe.Type == "" {
		return nil, fmt.Errorf("slacktest: event must be a JSON object with a type")
	}
	s.mu.Lock()
	po := s.payloadOptions(nil, opts)
	eventID := randomID("Ev", 9)
	now := time.Now()
	payload := map[string]any{
		"token": s.opts.VerificationToken, "team_id": po.teamID, "api_app_id": po.appID,
		"event": raw, "type": "event_callback", "event_id": eventID, "event_time": now.Unix(),
		"authorizations": []any{map[string]any{
			"enterprise_id": orNil(po.enterpriseID), "team_id": po.teamID, "user_id": s.opts.BotUserID,
			"is_bot": true, "is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false,
		"event_context":         "4-" + base64.RawURLEncoding.EncodeToString([]byte(eventID)),
	}
	e := &envState{Envelope: Envelope{Type: TypeEventsAPI, Payload: jsonCompact(payload), EventID: eventID}}
	e.thenDisconnect = po.thenDisconnect
	s.mu.Unlock()
	return s.send(ctx, e)
}

// Redeliver sends envelope id's payload again as Slack's retry: a new
// envelope_id, the same payload (so the same event_id for events_api),
// retry_attempt one more than the last delivery's and retry_reason reason
// ("timeout" when empty). Slack retries Events API deliveries that were not
// acked; slash commands and interactions are not retried by Slack, but can
// be redelivered here to test idempotence.
func (s *Server) Redeliver(ctx context.Context, id, reason string) (*Envelope, error) {
	s.mu.Lock()
	orig, ok := s.envelopes[id]
	if !ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("slacktest: no envelope %q", id)
	}
	if reason == "" {
		reason = "timeout"
	}
	attempt := orig.RetryAttempt
	for _, eid := range s.envOrder {
		if o := s.envelopes[eid]; string(o.Payload) == string(orig.Payload) && o.RetryAttempt > attempt {
			attempt = o.RetryAttempt
		}
	}
	e := &envState{
		Envelope: Envelope{
			Type: orig.Type, Payload: orig.Payload, AcceptsResponsePayload: orig.AcceptsResponsePayload,
			RetryAttempt: attempt + 1, RetryReason: reason, TriggerID: orig.TriggerID, EventID: orig.EventID,
		},
		respond: orig.respond, viewID: orig.viewID,
	}
	s.mu.Unlock()
	return s.send(ctx, e)
}
