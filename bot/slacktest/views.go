package slacktest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// maxViewStack is how many modals can be stacked: "you can only push a new
// view onto a stack of up to 3 views" (views.push reference,
// push_limit_reached).
const maxViewStack = 3

// trigger is a trigger_id handed to the app in a payload.
type trigger struct {
	user   string
	appID  string
	teamID string
	issued time.Time
	used   bool
}

// newTriggerLocked issues a trigger_id shaped like Slack's
// ("37053613634.26768298162.440952c06ef4de2653466a48fe495f93").
func (s *Server) newTriggerLocked(user, appID, teamID string) string {
	now := time.Now()
	id := fmt.Sprintf("%d.%s.%s", now.UnixMilli()/10, randomString("0123456789", 11), randomHex(16))
	s.triggers[id] = &trigger{user: user, appID: appID, teamID: teamID, issued: now}
	return id
}

// ExpireTriggers makes every trigger_id issued so far expired, so that
// views.open answers expired_trigger_id without waiting 3 seconds.
func (s *Server) ExpireTriggers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.triggers {
		t.issued = time.Time{}
	}
}

// exchangeTriggerLocked checks a trigger_id as views.open and views.push do.
func (s *Server) exchangeTriggerLocked(id string, now time.Time) (*trigger, *apiError) {
	t, ok := s.triggers[id]
	if !ok || t.appID != s.opts.AppID {
		return nil, fail("invalid_trigger_id")
	}
	if t.used {
		return nil, fail("exchanged_trigger_id")
	}
	if now.Sub(t.issued) > s.opts.TriggerTTL {
		return nil, fail("expired_trigger_id")
	}
	t.used = true
	return t, nil
}

// viewState is a modal.
type viewState struct {
	id, externalID, hash, user string
	rootID, previousID         string
	spec                       map[string]any
	specRaw                    json.RawMessage
	blocks                     []any
	blocksRaw                  json.RawMessage
	open                       bool
	updates                    int
	errors                     map[string]string
}

func (v *viewState) str(key string) string {
	s, _ := v.spec[key].(string)
	return s
}

func (v *viewState) public() View {
	title := ""
	if t, ok := v.spec["title"].(map[string]any); ok {
		title, _ = t["text"].(string)
	}
	var errs map[string]string
	if v.errors != nil {
		errs = make(map[string]string, len(v.errors))
		for k, e := range v.errors {
			errs[k] = e
		}
	}
	return View{
		ID: v.id, ExternalID: v.externalID, Hash: v.hash, Type: v.str("type"),
		CallbackID: v.str("callback_id"), PrivateMetadata: v.str("private_metadata"), Title: title,
		User: v.user, RootViewID: v.rootID, PreviousViewID: v.previousID,
		Blocks: v.blocksRaw, Spec: v.specRaw, Open: v.open, Updates: v.updates, Errors: errs,
	}
}

func newViewHash() string {
	return fmt.Sprintf("%d.%s", time.Now().Unix(), randomHex(4))
}

// setSpec validates a view object and, when valid, makes it the view's content.
func (v *viewState) setSpec(spec map[string]any) {
	v.spec = spec
	blocks, _ := spec["blocks"].([]any)
	// fillIDs adds the generated ids to the decoded blocks too, so the spec
	// carries them.
	v.blocksRaw = fillIDs(blocks)
	v.blocks = blocks
	v.specRaw = jsonCompact(spec)
	if ext, ok := spec["external_id"].(string); ok {
		v.externalID = ext
	}
	v.hash = newViewHash()
}

// parseView decodes and validates a view argument (a JSON object, or its JSON
// text in a form field) as views.open, views.push and views.update do.
// Invalid views answer invalid_arguments with the reasons in
// response_metadata.messages.
func parseView(raw string, base string) (map[string]any, *apiError) {
	v, err := decodeJSON([]byte(raw))
	m, ok := v.(map[string]any)
	if err != nil || !ok {
		return nil, invalidArguments([]string{"failed to match all allowed schemas [json-pointer:" + base + "]"})
	}
	if errs := validateView(m, base); len(errs) > 0 {
		return nil, invalidArguments(errs)
	}
	return m, nil
}

func invalidArguments(errs []string) *apiError {
	return &apiError{code: "invalid_arguments", messages: slackErrorMessages(errs)}
}

// validateView checks a modal view object (modal-views reference).
func validateView(m map[string]any, base string) []string {
	v := &blockValidator{}
	if t, _ := m["type"].(string); t != "modal" {
		v.fail(base+"/type", "must be one of modal")
	}
	if t, ok := m["title"]; !ok {
		v.fail(base, "missing required field: title")
	} else {
		v.textObject(t, base+"/title", true, maxViewTitle)
	}
	for _, k := range []string{"submit", "close"} {
		if t, ok := m[k]; ok && t != nil {
			v.textObject(t, base+"/"+k, true, maxViewButtonText)
		}
	}
	v.maxString(m, "callback_id", base, maxCallbackID)
	v.maxString(m, "private_metadata", base, maxPrivateMetadata)
	v.maxString(m, "external_id", base, maxExternalID)
	blocks, ok := m["blocks"].([]any)
	if !ok {
		v.fail(base, "missing required field: blocks")
		return v.errs
	}
	v.errs = append(v.errs, validateBlocks(blocks, surfaceModal, base+"/blocks")...)
	hasInput := false
	for _, b := range blocks {
		if bm, ok := b.(map[string]any); ok && bm["type"] == "input" {
			hasInput = true
		}
	}
	if hasInput && m["submit"] == nil {
		v.fail(base, "missing required field: submit")
	}
	return v.errs
}

// wireView is a view as views.* return it and as view_submission carries it.
type wireView struct {
	ID                 string          `json:"id"`
	TeamID             string          `json:"team_id"`
	Type               string          `json:"type"`
	Blocks             json.RawMessage `json:"blocks"`
	PrivateMetadata    string          `json:"private_metadata"`
	CallbackID         string          `json:"callback_id"`
	State              wireViewState   `json:"state"`
	Hash               string          `json:"hash"`
	Title              any             `json:"title"`
	ClearOnClose       bool            `json:"clear_on_close"`
	NotifyOnClose      bool            `json:"notify_on_close"`
	Close              any             `json:"close"`
	Submit             any             `json:"submit"`
	PreviousViewID     *string         `json:"previous_view_id"`
	RootViewID         string          `json:"root_view_id"`
	AppID              string          `json:"app_id"`
	ExternalID         string          `json:"external_id"`
	AppInstalledTeamID string          `json:"app_installed_team_id"`
	BotID              string          `json:"bot_id"`
}

type wireViewState struct {
	Values map[string]map[string]any `json:"values"`
}

func (s *Server) wireViewLocked(v *viewState, values map[string]map[string]any) wireView {
	if values == nil {
		values = map[string]map[string]any{}
	}
	w := wireView{
		ID: v.id, TeamID: s.opts.TeamID, Type: v.str("type"), Blocks: v.blocksRaw,
		PrivateMetadata: v.str("private_metadata"), CallbackID: v.str("callback_id"),
		State: wireViewState{Values: values}, Hash: v.hash, Title: v.spec["title"],
		Close: v.spec["close"], Submit: v.spec["submit"], RootViewID: v.rootID,
		AppID: s.opts.AppID, ExternalID: v.externalID, AppInstalledTeamID: s.opts.TeamID, BotID: s.opts.BotID,
	}
	w.ClearOnClose, _ = v.spec["clear_on_close"].(bool)
	w.NotifyOnClose, _ = v.spec["notify_on_close"].(bool)
	if v.previousID != "" {
		p := v.previousID
		w.PreviousViewID = &p
	}
	return w
}

func (s *Server) externalIDTakenLocked(ext, except string) bool {
	if ext == "" {
		return false
	}
	for _, id := range s.viewOrder {
		if v := s.views[id]; v.id != except && v.externalID == ext && v.open {
			return true
		}
	}
	return false
}

func (s *Server) newViewLocked(user, previous, root string, spec map[string]any) *viewState {
	v := &viewState{id: randomID("V", 10), user: user, previousID: previous, rootID: root, open: true}
	if v.rootID == "" {
		v.rootID = v.id
	}
	v.setSpec(spec)
	s.views[v.id] = v
	s.viewOrder = append(s.viewOrder, v.id)
	return v
}

// closeStackLocked closes every modal open for user.
func (s *Server) closeStackLocked(user string) {
	for _, id := range s.stacks[user] {
		s.views[id].open = false
	}
	delete(s.stacks, user)
}

// popViewLocked closes the view on top of user's stack.
func (s *Server) popViewLocked(user string) {
	st := s.stacks[user]
	if len(st) == 0 {
		return
	}
	s.views[st[len(st)-1]].open = false
	if len(st) == 1 {
		delete(s.stacks, user)
		return
	}
	s.stacks[user] = st[:len(st)-1]
}

func (s *Server) pushViewLocked(user string, spec map[string]any) (*viewState, *apiError) {
	st := s.stacks[user]
	if len(st) == 0 {
		return nil, fail("not_found")
	}
	if len(st) >= maxViewStack {
		return nil, fail("push_limit_reached")
	}
	top := s.views[st[len(st)-1]]
	v := s.newViewLocked(user, top.id, top.rootID, spec)
	s.stacks[user] = append(st, v.id)
	return v, nil
}

func (s *Server) viewsOpen(r *apiRequest) (map[string]any, *apiError) {
	tid := r.args.Get("trigger_id")
	if tid == "" {
		return nil, fail("invalid_arguments")
	}
	spec, aerr := parseView(r.args.Get("view"), "/view")
	if aerr != nil {
		return nil, aerr
	}
	t, aerr := s.exchangeTriggerLocked(tid, r.now)
	if aerr != nil {
		return nil, aerr
	}
	// The modals open for the user close; their external_ids are free again.
	s.closeStackLocked(t.user)
	ext, _ := spec["external_id"].(string)
	if s.externalIDTakenLocked(ext, "") {
		return nil, fail("duplicate_external_id")
	}
	v := s.newViewLocked(t.user, "", "", spec)
	s.stacks[t.user] = []string{v.id}
	return map[string]any{"view": s.wireViewLocked(v, nil)}, nil
}

func (s *Server) viewsPush(r *apiRequest) (map[string]any, *apiError) {
	tid := r.args.Get("trigger_id")
	if tid == "" {
		return nil, fail("invalid_arguments")
	}
	spec, aerr := parseView(r.args.Get("view"), "/view")
	if aerr != nil {
		return nil, aerr
	}
	t, aerr := s.exchangeTriggerLocked(tid, r.now)
	if aerr != nil {
		return nil, aerr
	}
	ext, _ := spec["external_id"].(string)
	if s.externalIDTakenLocked(ext, "") {
		return nil, fail("duplicate_external_id")
	}
	v, aerr := s.pushViewLocked(t.user, spec)
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{"view": s.wireViewLocked(v, nil)}, nil
}

func (s *Server) viewsUpdate(r *apiRequest) (map[string]any, *apiError) {
	var v *viewState
	if id := r.args.Get("view_id"); id != "" {
		v = s.views[id]
	} else if ext := r.args.Get("external_id"); ext != "" {
		for _, id := range s.viewOrder {
			if cand := s.views[id]; cand.externalID == ext && cand.open {
				v = cand
			}
		}
	} else {
		return nil, fail("invalid_arguments")
	}
	if v == nil || !v.open {
		return nil, fail("not_found")
	}
	if h := r.args.Get("hash"); h != "" && h != v.hash {
		return nil, fail("hash_conflict")
	}
	spec, aerr := parseView(r.args.Get("view"), "/view")
	if aerr != nil {
		return nil, aerr
	}
	ext, _ := spec["external_id"].(string)
	if s.externalIDTakenLocked(ext, v.id) {
		return nil, fail("duplicate_external_id")
	}
	v.setSpec(spec)
	v.updates++
	v.errors = nil
	return map[string]any{"view": s.wireViewLocked(v, nil)}, nil
}

// Response URLs ------------------------------------------------------------------

// Slack lets an app use a response_url "up to 5 times within 30 minutes"
// (docs.slack.dev/interactivity/handling-user-interaction).
const (
	maxResponseURLUses = 5
	responseURLTTL     = 30 * time.Minute
)

// responseURL is a response_url handed to the app.
type responseURL struct {
	user, channel       string
	messageTS, threadTS string // the message a block action came from
	created             time.Time
	uses                int
}

// newResponseURLLocked issues a response_url shaped like Slack's
// (https://hooks.slack.com/commands/T.../123.../abc... for slash commands,
// .../actions/A.../123.../abc... for block actions).
func (s *Server) newResponseURLLocked(kind, user, channel, messageTS, threadTS string) (string, *responseURL) {
	owner := s.opts.AppID
	if kind == "commands" {
		owner = s.opts.TeamID
	}
	path := "/" + strings.Join([]string{kind, owner, randomString("0123456789", 11), randomString(blockIDAlphabet, 24)}, "/")
	r := &responseURL{user: user, channel: channel, messageTS: messageTS, threadTS: threadTS, created: time.Now()}
	s.responses[path] = r
	return s.hs.URL + path, r
}

// responseBody is what an app posts to a response_url or acks a slash
// command with.
type responseBody struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

// applyResponseLocked shows a response_url post or a slash command's ack
// payload: a new ephemeral message (the default), a channel message
// (response_type in_channel), or a change to the message a button was on
// (replace_original, delete_original).
func (s *Server) applyResponseLocked(r *responseURL, b responseBody, source string) *apiError {
	var blocks json.RawMessage
	if len(b.Blocks) > 0 && string(b.Blocks) != "null" {
		list, ok := parseBlocks(string(b.Blocks))
		if !ok {
			return fail("invalid_blocks_format")
		}
		if errs := validateBlocks(list, surfaceMessage, "/blocks"); len(errs) > 0 {
			return &apiError{code: "invalid_blocks", errs: errs, messages: slackErrorMessages(errs)}
		}
		if len(list) > 0 {
			blocks = fillIDs(list)
		}
	}
	if runes(b.Text) > maxMessageText {
		return fail("msg_too_long")
	}
	if b.Text == "" && len(blocks) == 0 && !b.DeleteOriginal {
		return fail("no_text")
	}
	switch {
	case b.DeleteOriginal && r.messageTS != "":
		if m := s.findMessageLocked(r.channel, r.messageTS); m != nil {
			m.Deleted = true
		}
	case b.ReplaceOriginal && r.messageTS != "":
		m := s.findMessageLocked(r.channel, r.messageTS)
		if m == nil || m.Deleted {
			return fail("message_not_found")
		}
		m.Text, m.Blocks = b.Text, blocks
		m.Edited = &Edited{User: s.opts.BotUserID, TS: s.nextTSLocked()}
		m.Updates++
	case b.ResponseType == "in_channel":
		m := &Message{
			Channel: r.channel, TS: s.nextTSLocked(), ThreadTS: b.ThreadTS, User: s.opts.BotUserID,
			BotID: s.opts.BotID, AppID: s.opts.AppID, Team: s.opts.TeamID, Text: b.Text, Blocks: blocks,
		}
		s.insertMessageLocked(m)
	default:
		s.ephemeral = append(s.ephemeral, Ephemeral{
			Channel: r.channel, User: r.user, TS: s.nextTSLocked(), ThreadTS: b.ThreadTS,
			Text: b.Text, Blocks: blocks, Source: source,
		})
	}
	return nil
}
