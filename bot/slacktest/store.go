package slacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Message is a message in a channel, as the fake stores it. It is both what
// the inspection methods return and what Seed takes.
type Message struct {
	Channel string
	TS      string
	// ThreadTS is the parent's ts for a thread reply, and the message's own
	// ts for a thread parent with replies; empty otherwise.
	ThreadTS string
	// User is the author's user id (the bot user for the bot's messages;
	// empty for legacy bot_message posts such as Alertmanager's webhook).
	User     string
	BotID    string
	AppID    string
	Username string
	// Subtype is Slack's message subtype ("bot_message", "thread_broadcast"...).
	Subtype string
	Team    string
	Text    string
	// Blocks, Attachments and Metadata are the JSON Slack stores (block_ids
	// filled in where the poster left them out).
	Blocks         json.RawMessage
	Attachments    json.RawMessage
	Metadata       json.RawMessage
	ReplyBroadcast bool
	// Files are the ids of the files a file_share message shows
	// (files.completeUploadExternal; see Server.Files).
	Files []string
	// Edited is set once the message has been changed by chat.update.
	Edited *Edited
	// Updates counts the chat.update calls applied to the message.
	Updates int
	// Deleted is set when a response_url delete_original removed the
	// message; Messages, ThreadReplies, Message and WaitForMessage leave
	// deleted messages out.
	Deleted bool
}

// Edited records the last edit of a message.
type Edited struct {
	User string
	TS   string
}

// IsReply reports whether m is a reply in a thread (not the parent).
func (m Message) IsReply() bool { return m.ThreadTS != "" && m.ThreadTS != m.TS }

// SlackBlocks decodes the message's blocks with slack-go's types.
func (m Message) SlackBlocks() (slack.Blocks, error) {
	var b slack.Blocks
	if len(m.Blocks) == 0 {
		return b, nil
	}
	if err := json.Unmarshal(m.Blocks, &b); err != nil {
		return b, fmt.Errorf("slacktest: decode blocks of %s/%s: %w", m.Channel, m.TS, err)
	}
	return b, nil
}

// AllText returns the message's visible text: Text, then every "text",
// "title" and "pretext" string in its blocks and attachments, one per line.
// It is meant for "contains" assertions.
func (m Message) AllText() string {
	var parts []string
	if m.Text != "" {
		parts = append(parts, m.Text)
	}
	for _, raw := range []json.RawMessage{m.Blocks, m.Attachments} {
		if len(raw) == 0 {
			continue
		}
		var v any
		if json.Unmarshal(raw, &v) == nil {
			collectText(v, &parts)
		}
	}
	return strings.Join(parts, "\n")
}

func collectText(v any, out *[]string) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if s, ok := t[k].(string); ok && (k == "text" || k == "title" || k == "pretext") {
				*out = append(*out, s)
				continue
			}
			collectText(t[k], out)
		}
	case []any:
		for _, e := range t {
			collectText(e, out)
		}
	}
}

// Ephemeral is a message only one user saw: chat.postEphemeral, a slash
// command's ack payload or a response_url post with response_type
// "ephemeral".
type Ephemeral struct {
	Channel  string
	User     string
	TS       string
	ThreadTS string
	Text     string
	Blocks   json.RawMessage
	// Source is "chat.postEphemeral", "ack" or "response_url".
	Source string
}

// Call is one Web API request, or a post to a response_url (Method
// "response_url").
type Call struct {
	Method string
	// Args are the decoded arguments, whatever the encoding (form, query,
	// multipart or JSON; JSON values that are not strings are re-encoded as
	// JSON text, as Slack's form encoding carries them). The token is removed.
	Args url.Values
	// TokenType is "bot", "app", "invalid" or "" (none sent).
	TokenType string
	Time      time.Time
	// Status is the HTTP status answered; Error the Slack error code ("" when ok).
	Status int
	Error  string
}

// View is a modal as the fake stores it.
type View struct {
	ID              string
	ExternalID      string
	Hash            string
	Type            string
	CallbackID      string
	PrivateMetadata string
	Title           string
	// User is the user the modal is open for.
	User           string
	RootViewID     string
	PreviousViewID string
	Blocks         json.RawMessage
	// Spec is the view object as the app last sent it.
	Spec json.RawMessage
	// Open is false once the modal was closed (ack without response_action,
	// response_action "clear", or replaced by views.open).
	Open bool
	// Updates counts views.update calls and response_action "update" acks.
	Updates int
	// Errors are the field errors of the last response_action "errors" ack.
	Errors map[string]string
}

// message helpers (s.mu held) ------------------------------------------------

func (s *Server) findMessageLocked(channel, ts string) *Message {
	for _, m := range s.messages[channel] {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

// insertMessageLocked stores m in ts order.
func (s *Server) insertMessageLocked(m *Message) {
	list := s.messages[m.Channel]
	us, _ := parseTS(m.TS)
	i := sort.Search(len(list), func(i int) bool {
		v, _ := parseTS(list[i].TS)
		return v > us
	})
	list = append(list, nil)
	copy(list[i+1:], list[i:])
	list[i] = m
	s.messages[m.Channel] = list
	if us > s.lastTS {
		s.lastTS = us
	}
	if m.IsReply() {
		if p := s.findMessageLocked(m.Channel, m.ThreadTS); p != nil && p.ThreadTS == "" {
			p.ThreadTS = p.TS
		}
	}
}

// repliesLocked returns the live replies of a thread, oldest first.
func (s *Server) repliesLocked(channel, parentTS string) []*Message {
	var out []*Message
	for _, m := range s.messages[channel] {
		if !m.Deleted && m.ThreadTS == parentTS && m.TS != parentTS {
			out = append(out, m)
		}
	}
	return out
}

func copyMessage(m *Message) Message {
	c := *m
	if m.Edited != nil {
		e := *m.Edited
		c.Edited = &e
	}
	c.Files = slices.Clone(m.Files)
	return c
}

// Inspection -------------------------------------------------------------------

// Seed stores a message in a channel as if someone else had posted it
// (another bot, a user, Alertmanager's webhook with attachments). Channel is
// taken from the argument; an empty TS gets a new one. It returns the ts.
func (s *Server) Seed(channel string, m Message) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channelLocked(channel)
	if !ok {
		return "", fmt.Errorf("slacktest: seed: unknown channel %q", channel)
	}
	m.Channel = c.ID
	if m.TS == "" {
		m.TS = s.nextTSLocked()
	} else if _, ok := parseTS(m.TS); !ok {
		return "", fmt.Errorf("slacktest: seed: bad ts %q", m.TS)
	}
	if s.findMessageLocked(c.ID, m.TS) != nil {
		return "", fmt.Errorf("slacktest: seed: %s already has a message at %s", c.ID, m.TS)
	}
	if m.Team == "" && m.User != "" {
		if u, ok := s.users[m.User]; ok {
			m.Team = u.TeamID
		}
	}
	for _, raw := range []json.RawMessage{m.Blocks, m.Attachments, m.Metadata} {
		if len(raw) > 0 && !json.Valid(raw) {
			return "", fmt.Errorf("slacktest: seed: invalid JSON %q", raw)
		}
	}
	mm := m
	s.insertMessageLocked(&mm)
	s.bumpLocked()
	return m.TS, nil
}

// Messages returns the channel's messages as its history shows them: thread
// parents and plain messages (and replies broadcast to the channel), oldest
// first.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channelLocked(channel)
	if !ok {
		return nil
	}
	var out []Message
	for _, m := range s.messages[c.ID] {
		if m.Deleted {
			continue
		}
		if !m.IsReply() || m.ReplyBroadcast {
			out = append(out, copyMessage(m))
		}
	}
	return out
}

// ThreadReplies returns the replies to the message at ts (without the
// parent), oldest first.
func (s *Server) ThreadReplies(channel, ts string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channelLocked(channel)
	if !ok {
		return nil
	}
	var out []Message
	for _, m := range s.repliesLocked(c.ID, ts) {
		out = append(out, copyMessage(m))
	}
	return out
}

// Message returns the message at ts in channel (a reply or not).
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channelLocked(channel)
	if !ok {
		return Message{}, false
	}
	m := s.findMessageLocked(c.ID, ts)
	if m == nil || m.Deleted {
		return Message{}, false
	}
	return copyMessage(m), true
}

// Ephemerals returns the ephemeral messages shown to user (every user when
// user is empty), in order.
func (s *Server) Ephemerals(user string) []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Ephemeral
	for _, e := range s.ephemeral {
		if user == "" || e.User == user {
			out = append(out, e)
		}
	}
	return out
}

// Calls returns the Web API calls to method (every call when method is
// empty), in order.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			c.Args = cloneValues(c.Args)
			out = append(out, c)
		}
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// Views returns every modal opened so far, in order.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]View, 0, len(s.viewOrder))
	for _, id := range s.viewOrder {
		out = append(out, s.views[id].public())
	}
	return out
}

// View returns the modal with the given id.
func (s *Server) View(id string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.views[id]
	if !ok {
		return View{}, false
	}
	return v.public(), true
}

// OpenViews returns the modals open for user, root first.
func (s *Server) OpenViews(user string) []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []View
	for _, id := range s.stacks[user] {
		out = append(out, s.views[id].public())
	}
	return out
}

// WaitForMessage waits until channel has a message (thread replies
// included) for which match returns true, and returns it.
func (s *Server) WaitForMessage(ctx context.Context, channel string, match func(Message) bool) (Message, error) {
	var found Message
	err := s.WaitFor(ctx, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		c, ok := s.channelLocked(channel)
		if !ok {
			return false
		}
		for _, m := range s.messages[c.ID] {
			if !m.Deleted && match(copyMessage(m)) {
				found = copyMessage(m)
				return true
			}
		}
		return false
	})
	return found, err
}

// WaitForCall waits until a call to method for which match (nil: any)
// returns true has been answered, and returns it.
func (s *Server) WaitForCall(ctx context.Context, method string, match func(Call) bool) (Call, error) {
	var found Call
	err := s.WaitFor(ctx, func() bool {
		for _, c := range s.Calls(method) {
			if match == nil || match(c) {
				found = c
				return true
			}
		}
		return false
	})
	return found, err
}
