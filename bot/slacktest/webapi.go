package slacktest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// apiError is a Slack error answer.
type apiError struct {
	status     int // 0: 200
	code       string
	errs       []string // "errors" (invalid_blocks)
	messages   []string // response_metadata.messages
	retryAfter time.Duration
}

func fail(code string) *apiError { return &apiError{code: code} }

// apiRequest is a decoded Web API request.
type apiRequest struct {
	method    string
	args      url.Values
	tokenType string
	now       time.Time
}

type apiHandler func(s *Server, r *apiRequest) (map[string]any, *apiError)

// tokenKind is the kind of token a method accepts.
type tokenKind int

const (
	botToken tokenKind = iota
	appToken
)

type apiMethod struct {
	token tokenKind
	fn    apiHandler
}

var apiMethods = map[string]apiMethod{
	"apps.connections.open": {appToken, (*Server).appsConnectionsOpen},
	"auth.test":             {botToken, (*Server).authTest},
	"chat.postMessage":      {botToken, (*Server).chatPostMessage},
	"chat.update":           {botToken, (*Server).chatUpdate},
	"chat.delete":           {botToken, (*Server).chatDelete},
	"chat.postEphemeral":    {botToken, (*Server).chatPostEphemeral},
	"chat.getPermalink":     {botToken, (*Server).chatGetPermalink},
	"conversations.history": {botToken, (*Server).conversationsHistory},
	"conversations.replies": {botToken, (*Server).conversationsReplies},
	"conversations.info":    {botToken, (*Server).conversationsInfo},
	"users.info":            {botToken, (*Server).usersInfo},
	"usergroups.list":       {botToken, (*Server).usergroupsList},
	"usergroups.users.list": {botToken, (*Server).usergroupsUsersList},
	"views.open":            {botToken, (*Server).viewsOpen},
	"views.push":            {botToken, (*Server).viewsPush},
	"views.update":          {botToken, (*Server).viewsUpdate},

	"files.getUploadURLExternal":   {botToken, (*Server).filesGetUploadURLExternal},
	"files.completeUploadExternal": {botToken, (*Server).filesCompleteUploadExternal},
	"views.publish":                {botToken, (*Server).viewsPublish},
}

// handleAPI serves /api/<method>.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	args, isJSON, warnCharset, perr := parseArgs(r)

	token := ""
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		token = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	} else if !isJSON {
		// Slack takes the token as a parameter for form and query encodings
		// only; a JSON body must carry it in the Authorization header.
		token = args.Get("token")
	}
	args.Del("token")

	now := time.Now()
	req := &apiRequest{method: method, args: args, now: now}
	switch token {
	case "":
		req.tokenType = ""
	case s.opts.BotToken:
		req.tokenType = "bot"
	case s.opts.AppToken:
		req.tokenType = "app"
	default:
		req.tokenType = "invalid"
	}

	s.mu.Lock()
	body, aerr := s.serveLocked(req, perr)
	status := http.StatusOK
	if aerr != nil {
		if aerr.status != 0 {
			status = aerr.status
		}
		body = map[string]any{"ok": false, "error": aerr.code}
		if len(aerr.errs) > 0 {
			body["errors"] = aerr.errs
		}
		if len(aerr.messages) > 0 {
			body["response_metadata"] = map[string]any{"messages": aerr.messages}
		}
		if status == http.StatusNotFound {
			body["req_method"] = method
		}
	}
	if warnCharset {
		// Slack warns about JSON bodies posted without a charset.
		body["warning"] = "missing_charset"
		md, _ := body["response_metadata"].(map[string]any)
		if md == nil {
			md = map[string]any{}
			body["response_metadata"] = md
		}
		md["warnings"] = []string{"missing_charset"}
	}
	call := Call{Method: method, Args: cloneValues(args), TokenType: req.tokenType, Time: now, Status: status}
	if aerr != nil {
		call.Error = aerr.code
	}
	s.calls = append(s.calls, call)
	s.bumpLocked()
	s.mu.Unlock()

	s.logf("%s %s -> %d %s", r.Method, method, status, call.Error)
	if aerr != nil && aerr.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(aerr.retryAfter)))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(jsonCompact(body))
}

func retryAfterSeconds(d time.Duration) int {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return secs
}

// serveLocked authenticates and dispatches a request. s.mu is held.
func (s *Server) serveLocked(r *apiRequest, parseErr *apiError) (map[string]any, *apiError) {
	m, ok := apiMethods[r.method]
	if !ok {
		return nil, &apiError{status: http.StatusNotFound, code: "unknown_method"}
	}
	switch r.tokenType {
	case "":
		return nil, fail("not_authed")
	case "invalid":
		return nil, fail("invalid_auth")
	case "bot":
		if m.token != botToken {
			return nil, fail("not_allowed_token_type")
		}
	case "app":
		if m.token != appToken {
			return nil, fail("not_allowed_token_type")
		}
	}
	if parseErr != nil {
		return nil, parseErr
	}
	if f, ok := s.takeFailureLocked(r.method); ok {
		return nil, f
	}
	if wait, limited := s.rateLimitedLocked(r.method, r.args, r.now); limited {
		return nil, &apiError{status: http.StatusTooManyRequests, code: "ratelimited", retryAfter: wait}
	}
	body, aerr := m.fn(s, r)
	if aerr != nil {
		return nil, aerr
	}
	body["ok"] = true
	return body, nil
}

// parseArgs decodes the arguments of a Web API request from the query
// string and the body (form, multipart or JSON). JSON values that are not
// strings become their JSON text, as in a form post.
func parseArgs(r *http.Request) (args url.Values, isJSON, warnCharset bool, aerr *apiError) {
	args = url.Values{}
	for k, v := range r.URL.Query() {
		args[k] = append([]string(nil), v...)
	}
	if r.Body == nil {
		return args, false, false, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return args, false, false, fail("invalid_form_data")
	}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		isJSON = true
		warnCharset = params["charset"] == ""
		if len(bytes.TrimSpace(body)) == 0 {
			return args, isJSON, warnCharset, nil
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
			return args, isJSON, warnCharset, fail("invalid_json")
		}
		for k, raw := range obj {
			raw = bytes.TrimSpace(raw)
			switch {
			case bytes.Equal(raw, []byte("null")):
			case len(raw) > 0 && raw[0] == '"':
				var str string
				if err := json.Unmarshal(raw, &str); err != nil {
					return args, isJSON, warnCharset, fail("invalid_json")
				}
				args.Set(k, str)
			default:
				var buf bytes.Buffer
				if err := json.Compact(&buf, raw); err != nil {
					return args, isJSON, warnCharset, fail("invalid_json")
				}
				args.Set(k, buf.String())
			}
		}
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		form, err := mr.ReadForm(16 << 20)
		if err != nil {
			return args, false, false, fail("invalid_form_data")
		}
		for k, v := range form.Value {
			args[k] = append(args[k], v...)
		}
		_ = form.RemoveAll()
	default:
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return args, false, false, fail("invalid_form_data")
		}
		for k, v := range q {
			args[k] = append(args[k], v...)
		}
	}
	return args, isJSON, warnCharset, nil
}

func boolArg(args url.Values, key string) bool {
	switch strings.ToLower(args.Get(key)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// Wire formats ---------------------------------------------------------------

type wireBotProfile struct {
	ID      string `json:"id"`
	AppID   string `json:"app_id"`
	Name    string `json:"name"`
	Deleted bool   `json:"deleted"`
	TeamID  string `json:"team_id"`
}

type wireEdited struct {
	User string `json:"user"`
	TS   string `json:"ts"`
}

// wireMessage is a message as conversations.history and the chat methods
// return it.
type wireMessage struct {
	Type            string          `json:"type"`
	Subtype         string          `json:"subtype,omitempty"`
	User            string          `json:"user,omitempty"`
	BotID           string          `json:"bot_id,omitempty"`
	AppID           string          `json:"app_id,omitempty"`
	Username        string          `json:"username,omitempty"`
	Text            string          `json:"text"`
	TS              string          `json:"ts"`
	Team            string          `json:"team,omitempty"`
	ThreadTS        string          `json:"thread_ts,omitempty"`
	ParentUserID    string          `json:"parent_user_id,omitempty"`
	ReplyCount      int             `json:"reply_count,omitempty"`
	ReplyUsersCount int             `json:"reply_users_count,omitempty"`
	LatestReply     string          `json:"latest_reply,omitempty"`
	ReplyUsers      []string        `json:"reply_users,omitempty"`
	Blocks          json.RawMessage `json:"blocks,omitempty"`
	Attachments     json.RawMessage `json:"attachments,omitempty"`
	Metadata        json.RawMessage `json:"metadata,omitempty"`
	Files           []wireFile      `json:"files,omitempty"`
	Edited          *wireEdited     `json:"edited,omitempty"`
	BotProfile      *wireBotProfile `json:"bot_profile,omitempty"`
}

// wireFile is a file as a message shows it.
type wireFile struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Title string `json:"title"`
	Size  int    `json:"size"`
}

func (s *Server) wireMessageLocked(m *Message, withMetadata bool) wireMessage {
	w := wireMessage{
		Type: "message", Subtype: m.Subtype, User: m.User, BotID: m.BotID, AppID: m.AppID,
		Username: m.Username, Text: m.Text, TS: m.TS, Team: m.Team, ThreadTS: m.ThreadTS,
		Blocks: m.Blocks, Attachments: m.Attachments,
	}
	if withMetadata {
		w.Metadata = m.Metadata
	}
	for _, id := range m.Files {
		if f := s.files[id]; f != nil {
			w.Files = append(w.Files, wireFile{ID: f.ID, Name: f.Filename, Title: f.Title, Size: f.Length})
		}
	}
	if m.Edited != nil {
		w.Edited = &wireEdited{User: m.Edited.User, TS: m.Edited.TS}
	}
	if m.BotID == s.opts.BotID && m.AppID == s.opts.AppID {
		w.BotProfile = &wireBotProfile{ID: s.opts.BotID, AppID: s.opts.AppID, Name: s.opts.BotName, TeamID: s.opts.TeamID}
	}
	if m.IsReply() {
		if p := s.findMessageLocked(m.Channel, m.ThreadTS); p != nil {
			w.ParentUserID = p.User
		}
	} else if m.ThreadTS != "" {
		replies := s.repliesLocked(m.Channel, m.TS)
		w.ReplyCount = len(replies)
		seen := map[string]bool{}
		for _, r := range replies {
			who := r.User
			if who == "" {
				who = r.BotID
			}
			if !seen[who] {
				seen[who] = true
				w.ReplyUsers = append(w.ReplyUsers, who)
			}
			w.LatestReply = r.TS
		}
		w.ReplyUsersCount = len(w.ReplyUsers)
	}
	return w
}

// Auth -----------------------------------------------------------------------

func (s *Server) authTest(r *apiRequest) (map[string]any, *apiError) {
	out := map[string]any{
		"url":                   "https://" + s.opts.TeamDomain + ".slack.com/",
		"team":                  s.opts.TeamName,
		"user":                  s.opts.BotName,
		"team_id":               s.opts.TeamID,
		"user_id":               s.opts.BotUserID,
		"bot_id":                s.opts.BotID,
		"is_enterprise_install": false,
	}
	if s.opts.EnterpriseID != "" {
		out["enterprise_id"] = s.opts.EnterpriseID // only in Enterprise Grid
	}
	return out, nil
}

// Chat -------------------------------------------------------------------------

// channelForBotLocked resolves a channel the bot uses. write: the call posts.
func (s *Server) channelForBotLocked(ref string, write bool) (*channelState, *apiError) {
	c, ok := s.channelLocked(ref)
	if !ok || ref == "" {
		return nil, fail("channel_not_found")
	}
	member := c.isMember(s.opts.BotUserID)
	if c.IsPrivate && !member {
		// Slack does not reveal private channels the caller is not in.
		return nil, fail("channel_not_found")
	}
	if write && c.IsArchived {
		return nil, fail("is_archived")
	}
	if !member {
		return nil, fail("not_in_channel")
	}
	return c, nil
}

// content is the message content of a chat.* call.
type content struct {
	text           string
	hasText        bool
	blocks         json.RawMessage // ids filled; nil for "[]"
	hasBlocks      bool
	attachments    json.RawMessage
	hasAttachments bool
	metadata       json.RawMessage
	hasMetadata    bool
}

func (c content) empty() bool {
	return c.text == "" && len(c.blocks) == 0 && len(c.attachments) == 0
}

// parseContentLocked validates text, blocks, attachments and metadata the
// way chat.postMessage and chat.update do.
func (s *Server) parseContentLocked(args url.Values) (content, *apiError) {
	var c content
	if _, ok := args["text"]; ok {
		c.text, c.hasText = args.Get("text"), true
		if runes(c.text) > maxMessageText {
			return c, fail("msg_too_long")
		}
	}
	if _, ok := args["blocks"]; ok {
		c.hasBlocks = true
		raw := args.Get("blocks")
		list, ok := parseBlocks(raw)
		if !ok {
			return c, fail("invalid_blocks_format")
		}
		if errs := validateBlocks(list, surfaceMessage, "/blocks"); len(errs) > 0 {
			return c, &apiError{code: "invalid_blocks", errs: errs, messages: slackErrorMessages(errs)}
		}
		if s.opts.MaxBlocksJSONBytes > 0 && len(raw) > s.opts.MaxBlocksJSONBytes {
			return c, fail("msg_blocks_too_long")
		}
		if len(list) > 0 {
			c.blocks = fillIDs(list)
		}
	}
	if _, ok := args["attachments"]; ok {
		c.hasAttachments = true
		v, err := decodeJSON([]byte(args.Get("attachments")))
		list, isList := v.([]any)
		if err != nil || !isList {
			return c, fail("invalid_attachments")
		}
		if len(list) > 0 {
			c.attachments = jsonCompact(list)
		}
	}
	if _, ok := args["metadata"]; ok {
		c.hasMetadata = true
		v, err := decodeJSON([]byte(args.Get("metadata")))
		obj, isObj := v.(map[string]any)
		if err != nil || !isObj {
			return c, fail("invalid_metadata_format")
		}
		if _, ok := obj["event_type"].(string); !ok {
			return c, fail("invalid_metadata_schema")
		}
		c.metadata = jsonCompact(obj)
	}
	return c, nil
}

func (s *Server) chatPostMessage(r *apiRequest) (map[string]any, *apiError) {
	ch, aerr := s.channelForBotLocked(r.args.Get("channel"), true)
	if aerr != nil {
		return nil, aerr
	}
	c, aerr := s.parseContentLocked(r.args)
	if aerr != nil {
		return nil, aerr
	}
	if c.empty() {
		return nil, fail("no_text")
	}
	m := &Message{
		Channel: ch.ID, TS: s.nextTSLocked(), User: s.opts.BotUserID, BotID: s.opts.BotID,
		AppID: s.opts.AppID, Team: s.opts.TeamID, Text: c.text, Blocks: c.blocks,
		Attachments: c.attachments, Metadata: c.metadata,
	}
	if tts := r.args.Get("thread_ts"); tts != "" {
		// A reply to a reply goes to the thread's parent.
		if p := s.findMessageLocked(ch.ID, tts); p != nil && p.IsReply() {
			tts = p.ThreadTS
		}
		m.ThreadTS = tts
		if boolArg(r.args, "reply_broadcast") {
			m.ReplyBroadcast = true
			m.Subtype = "thread_broadcast"
		}
	}
	s.insertMessageLocked(m)
	return map[string]any{"channel": ch.ID, "ts": m.TS, "message": s.wireMessageLocked(m, true)}, nil
}

func (s *Server) chatUpdate(r *apiRequest) (map[string]any, *apiError) {
	ch, ok := s.channelLocked(r.args.Get("channel"))
	if !ok || (ch.IsPrivate && !ch.isMember(s.opts.BotUserID)) {
		return nil, fail("channel_not_found")
	}
	m := s.findMessageLocked(ch.ID, r.args.Get("ts"))
	if m == nil || m.Deleted {
		return nil, fail("message_not_found")
	}
	if m.BotID != s.opts.BotID || m.User != s.opts.BotUserID {
		return nil, fail("cant_update_message")
	}
	if ch.IsArchived {
		return nil, fail("is_archived")
	}
	c, aerr := s.parseContentLocked(r.args)
	if aerr != nil {
		return nil, aerr
	}
	if !c.hasText && !c.hasBlocks && !c.hasAttachments {
		return nil, fail("no_text")
	}
	// Fields left out keep their previous value; an empty array clears
	// blocks or attachments (chat.update reference).
	text, blocks, atts, meta := m.Text, m.Blocks, m.Attachments, m.Metadata
	if c.hasText {
		text = c.text
	}
	if c.hasBlocks {
		blocks = c.blocks
	}
	if c.hasAttachments {
		atts = c.attachments
	}
	if c.hasMetadata {
		meta = c.metadata
	}
	if text == "" && len(blocks) == 0 && len(atts) == 0 {
		return nil, fail("no_text")
	}
	m.Text, m.Blocks, m.Attachments, m.Metadata = text, blocks, atts, meta
	m.Edited = &Edited{User: s.opts.BotUserID, TS: s.nextTSLocked()}
	m.Updates++
	return map[string]any{"channel": ch.ID, "ts": m.TS, "text": m.Text, "message": s.wireMessageLocked(m, true)}, nil
}

func (s *Server) chatPostEphemeral(r *apiRequest) (map[string]any, *apiError) {
	ch, aerr := s.channelForBotLocked(r.args.Get("channel"), true)
	if aerr != nil {
		return nil, aerr
	}
	user := r.args.Get("user")
	if _, ok := s.userLocked(user); !ok {
		return nil, fail("user_not_found")
	}
	if !ch.isMember(user) {
		return nil, fail("user_not_in_channel")
	}
	c, aerr := s.parseContentLocked(r.args)
	if aerr != nil {
		return nil, aerr
	}
	if c.empty() {
		return nil, fail("no_text")
	}
	ts := s.nextTSLocked()
	s.ephemeral = append(s.ephemeral, Ephemeral{
		Channel: ch.ID, User: user, TS: ts, ThreadTS: r.args.Get("thread_ts"),
		Text: c.text, Blocks: c.blocks, Source: "chat.postEphemeral",
	})
	return map[string]any{"message_ts": ts}, nil
}

func (s *Server) chatGetPermalink(r *apiRequest) (map[string]any, *apiError) {
	ch, ok := s.channelLocked(r.args.Get("channel"))
	if !ok || (ch.IsPrivate && !ch.isMember(s.opts.BotUserID)) {
		return nil, fail("channel_not_found")
	}
	m := s.findMessageLocked(ch.ID, r.args.Get("message_ts"))
	if m == nil || m.Deleted {
		return nil, fail("message_not_found")
	}
	link := fmt.Sprintf("https://%s.slack.com/archives/%s/p%s", s.opts.TeamDomain, ch.ID, strings.ReplaceAll(m.TS, ".", ""))
	if m.IsReply() {
		link += "?thread_ts=" + m.ThreadTS + "&cid=" + ch.ID
	}
	return map[string]any{"channel": ch.ID, "permalink": link}, nil
}

// Conversations ----------------------------------------------------------------

// Page sizes: conversations.history defaults to 100 items and allows at most
// 999; conversations.replies allows up to 1000 (method references).
const (
	historyDefaultLimit = 100
	historyMaxLimit     = 999
	repliesDefaultLimit = 100
	repliesMaxLimit     = 1000
)

func encodeCursor(ts string) string {
	return base64.StdEncoding.EncodeToString([]byte("next_ts:" + ts))
}

func decodeCursor(c string) (int64, bool) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	ts, ok := strings.CutPrefix(string(b), "next_ts:")
	if !ok {
		return 0, false
	}
	return parseTS(ts)
}

func pageLimit(args url.Values, def, max int) int {
	n, err := strconv.Atoi(args.Get("limit"))
	if err != nil || n <= 0 {
		return def
	}
	if n > max {
		return max
	}
	return n
}

// inRange applies oldest/latest/inclusive to a ts.
func inRange(ts string, args url.Values, now time.Time) bool {
	us, _ := parseTS(ts)
	incl := boolArg(args, "inclusive")
	if o := args.Get("oldest"); o != "" {
		if ov, ok := parseTS(o); ok && (us < ov || (!incl && us == ov)) {
			return false
		}
	}
	lv := now.UnixMicro()
	if l := args.Get("latest"); l != "" {
		if v, ok := parseTS(l); ok {
			lv = v
		}
	}
	return us < lv || (incl && us == lv)
}

// paginate cuts list at the cursor. newestFirst: list is ordered by
// descending ts.
func paginate(list []*Message, args url.Values, def, max int, newestFirst bool) ([]*Message, string, *apiError) {
	start := 0
	if cur := args.Get("cursor"); cur != "" {
		at, ok := decodeCursor(cur)
		if !ok {
			return nil, "", fail("invalid_cursor")
		}
		start = len(list)
		for i, m := range list {
			v, _ := parseTS(m.TS)
			if (newestFirst && v <= at) || (!newestFirst && v >= at) {
				start = i
				break
			}
		}
	}
	limit := pageLimit(args, def, max)
	end := start + limit
	next := ""
	if end < len(list) {
		next = encodeCursor(list[end].TS)
	} else {
		end = len(list)
	}
	return list[start:end], next, nil
}

func (s *Server) conversationsHistory(r *apiRequest) (map[string]any, *apiError) {
	ch, aerr := s.channelForBotLocked(r.args.Get("channel"), false)
	if aerr != nil {
		return nil, aerr
	}
	var list []*Message
	all := s.messages[ch.ID]
	for i := len(all) - 1; i >= 0; i-- {
		m := all[i]
		if m.Deleted || (m.IsReply() && !m.ReplyBroadcast) || !inRange(m.TS, r.args, r.now) {
			continue
		}
		list = append(list, m)
	}
	page, next, aerr := paginate(list, r.args, historyDefaultLimit, historyMaxLimit, true)
	if aerr != nil {
		return nil, aerr
	}
	withMeta := boolArg(r.args, "include_all_metadata")
	msgs := make([]wireMessage, 0, len(page))
	for _, m := range page {
		msgs = append(msgs, s.wireMessageLocked(m, withMeta))
	}
	body := map[string]any{
		"messages": msgs, "has_more": next != "", "pin_count": 0,
		"channel_actions_ts": nil, "channel_actions_count": 0,
	}
	if next != "" {
		body["response_metadata"] = map[string]any{"next_cursor": next}
	}
	return body, nil
}

func (s *Server) conversationsReplies(r *apiRequest) (map[string]any, *apiError) {
	ch, aerr := s.channelForBotLocked(r.args.Get("channel"), false)
	if aerr != nil {
		return nil, aerr
	}
	m := s.findMessageLocked(ch.ID, r.args.Get("ts"))
	if m == nil || m.Deleted {
		return nil, fail("thread_not_found")
	}
	if m.IsReply() {
		// ts may name any message of the thread.
		if p := s.findMessageLocked(ch.ID, m.ThreadTS); p != nil {
			m = p
		}
	}
	list := []*Message{m}
	for _, rep := range s.repliesLocked(ch.ID, m.TS) {
		if inRange(rep.TS, r.args, r.now) {
			list = append(list, rep)
		}
	}
	page, next, aerr := paginate(list, r.args, repliesDefaultLimit, repliesMaxLimit, false)
	if aerr != nil {
		return nil, aerr
	}
	withMeta := boolArg(r.args, "include_all_metadata")
	msgs := make([]wireMessage, 0, len(page))
	for _, pm := range page {
		msgs = append(msgs, s.wireMessageLocked(pm, withMeta))
	}
	body := map[string]any{"messages": msgs, "has_more": next != ""}
	if next != "" {
		body["response_metadata"] = map[string]any{"next_cursor": next}
	}
	return body, nil
}

func (s *Server) conversationsInfo(r *apiRequest) (map[string]any, *apiError) {
	ch, ok := s.channelLocked(r.args.Get("channel"))
	if !ok || (ch.IsPrivate && !ch.isMember(s.opts.BotUserID)) {
		return nil, fail("channel_not_found")
	}
	info := map[string]any{
		"id": ch.ID, "name": ch.Name, "name_normalized": ch.Name,
		"is_channel": !ch.IsPrivate, "is_group": false, "is_im": false, "is_mpim": false,
		"is_private": ch.IsPrivate, "is_archived": ch.IsArchived, "is_general": false,
		"is_shared": false, "is_ext_shared": false, "is_org_shared": false,
		"is_member": ch.isMember(s.opts.BotUserID), "created": ch.created, "creator": "",
		"context_team_id": s.opts.TeamID, "unlinked": 0,
		"topic":   map[string]any{"value": "", "creator": "", "last_set": 0},
		"purpose": map[string]any{"value": "", "creator": "", "last_set": 0},
	}
	if boolArg(r.args, "include_num_members") {
		info["num_members"] = len(ch.Members)
	}
	return map[string]any{"channel": info}, nil
}

// Users and groups -------------------------------------------------------------

func (s *Server) usersInfo(r *apiRequest) (map[string]any, *apiError) {
	u, ok := s.userLocked(r.args.Get("user"))
	if !ok {
		return nil, fail("user_not_found")
	}
	profile := map[string]any{
		"real_name": u.RealName, "real_name_normalized": u.RealName,
		"display_name": u.Name, "display_name_normalized": u.Name, "team": u.TeamID,
	}
	if u.ID == s.opts.BotUserID {
		profile["bot_id"] = s.opts.BotID
		profile["api_app_id"] = s.opts.AppID
	}
	return map[string]any{"user": map[string]any{
		"id": u.ID, "team_id": u.TeamID, "name": u.Name, "deleted": u.Deleted,
		"real_name": u.RealName, "tz": "Europe/London", "tz_label": "Greenwich Mean Time", "tz_offset": 0,
		"is_admin": u.IsAdmin, "is_owner": false, "is_primary_owner": false, "is_restricted": false,
		"is_ultra_restricted": false, "is_bot": u.IsBot, "is_app_user": false, "updated": 1700000000,
		"profile": profile,
	}}, nil
}

func (s *Server) usergroupsList(r *apiRequest) (map[string]any, *apiError) {
	groups := make([]map[string]any, 0, len(s.groupOrder))
	for _, id := range s.groupOrder {
		g := s.groups[id]
		entry := map[string]any{
			"id": g.ID, "team_id": s.opts.TeamID, "is_usergroup": true, "is_subteam": true,
			"name": g.Name, "description": "", "handle": g.Handle, "is_external": false,
			"date_create": 1700000000, "date_update": 1700000000, "date_delete": 0,
			"auto_type": nil, "created_by": "", "updated_by": "", "deleted_by": nil,
			"prefs":      map[string]any{"channels": []string{}, "groups": []string{}},
			"user_count": len(g.Users),
		}
		if boolArg(r.args, "include_users") {
			entry["users"] = append([]string{}, g.Users...)
		}
		groups = append(groups, entry)
	}
	return map[string]any{"usergroups": groups}, nil
}

func (s *Server) usergroupsUsersList(r *apiRequest) (map[string]any, *apiError) {
	g, ok := s.groups[r.args.Get("usergroup")]
	if !ok {
		return nil, fail("no_such_subteam")
	}
	return map[string]any{"users": append([]string{}, g.Users...)}, nil
}

// Failure injection --------------------------------------------------------------

type injectedFailure struct {
	status     int
	code       string
	retryAfter time.Duration
}

// FailNext makes the next n calls to method answer
// {"ok":false,"error":code} with HTTP 200 (after authentication succeeds).
func (s *Server) FailNext(method, code string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failNext[method] = append(s.failNext[method], injectedFailure{code: code})
	}
}

// RateLimitNext makes the next n calls to method answer HTTP 429 with a
// Retry-After header (whole seconds, at least 1) and
// {"ok":false,"error":"ratelimited"}, as Slack's rate limiter does.
func (s *Server) RateLimitNext(method string, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failNext[method] = append(s.failNext[method], injectedFailure{
			status: http.StatusTooManyRequests, code: "ratelimited", retryAfter: max(retryAfter, time.Second),
		})
	}
}

// ServerErrorNext makes the next n calls to method answer HTTP status (a
// 5xx: 500, 502, 503 or 504) with the error code Slack documents for it:
// {"ok":false,"error":"internal_error"} for 500, "service_unavailable" for
// 503, "request_timeout" for 504 and "fatal_error" otherwise.
func (s *Server) ServerErrorNext(method string, n, status int) {
	if status < 500 || status > 599 {
		panic(fmt.Sprintf("slacktest: ServerErrorNext with HTTP %d, want a 5xx", status))
	}
	code := "fatal_error"
	switch status {
	case http.StatusInternalServerError:
		code = "internal_error"
	case http.StatusServiceUnavailable:
		code = "service_unavailable"
	case http.StatusGatewayTimeout:
		code = "request_timeout"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.failNext[method] = append(s.failNext[method], injectedFailure{status: status, code: code})
	}
}

func (s *Server) takeFailureLocked(method string) (*apiError, bool) {
	q := s.failNext[method]
	if len(q) == 0 {
		return nil, false
	}
	f := q[0]
	s.failNext[method] = q[1:]
	return &apiError{status: f.status, code: f.code, retryAfter: f.retryAfter}, true
}
