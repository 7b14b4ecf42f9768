// Package slacktest is a protocol-faithful fake of the parts of Slack that
// opsbot talks to, for end-to-end tests that run the real `opsbot serve` loop
// (slack-go's socketmode client and slack.Client) on a machine that cannot
// reach Slack.
//
// A Server listens on 127.0.0.1 and serves:
//
//   - Socket Mode: POST /api/apps.connections.open (app token) returns a
//     ws:// URL; the WebSocket sends `hello`, then envelopes (slash_commands,
//     interactive, events_api) that tests send with typed helpers
//     (SendSlashCommand, ClickButton, SubmitView, SendEvent). Each helper
//     returns when the app acks, or fails after Slack's 3-second ack deadline.
//     The connection can be disturbed on purpose: Disconnect (Slack's
//     `disconnect` frame), DropConnections (no frame), StopPinging,
//     FailConnectionsOpen (HTTP 429 with Retry-After).
//   - The Web API methods opsbot calls (chat.*, views.*, conversations.*,
//     users.info, usergroups.*, auth.test), with Slack's error codes and
//     Block Kit limits enforced, every call recorded, and rate limits and
//     failures injectable.
//
// State (messages, threads, ephemerals, views, calls, envelopes) can be
// inspected at any time and waited on without sleeping (WaitFor). All methods
// are safe for concurrent use.
//
// The wire formats follow Slack's documentation (docs.slack.dev, "Using Socket
// Mode" and the method and Block Kit references) and payloads captured from
// Slack in the public SDKs' tests; DESIGN.md's "Facts about the dependencies"
// lists what slack-go v0.35.0 expects of them.
package slacktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// Defaults used for zero Options fields. Tests that configure their own
// channels use DefaultBotUserID to put the bot in a channel.
const (
	DefaultTeamID            = "T00000001"
	DefaultTeamDomain        = "opsbot-test"
	DefaultTeamName          = "Opsbot Test"
	DefaultAppID             = "A00000001"
	DefaultAppToken          = "xapp-1-A00000001-1-fakeapptoken"
	DefaultBotToken          = "xoxb-1-fake-bot-token"
	DefaultBotUserID         = "U0000BOT1"
	DefaultBotID             = "B00000001"
	DefaultBotName           = "opsbot"
	DefaultVerificationToken = "fake-verification-token"

	// DefaultOpsChannelID and DefaultAlertsChannelID are the channels created
	// when Options.Channels is empty; the bot and every user are members.
	DefaultOpsChannelID    = "C00000OPS"
	DefaultAlertsChannelID = "C000ALERT"
	// DefaultAliceID and DefaultBobID are the users created when
	// Options.Users is empty.
	DefaultAliceID = "U00000A01"
	DefaultBobID   = "U00000B01"
)

// Slack's documented timing rules, used as defaults.
const (
	// DefaultAckTimeout is Slack's deadline for acknowledging an envelope:
	// "Your app must acknowledge ... within 3 seconds"
	// (docs.slack.dev/interactivity/handling-user-interaction).
	DefaultAckTimeout = 3 * time.Second
	// DefaultTriggerTTL is how long a trigger_id can be exchanged for a modal:
	// "trigger_id ... expires in 3 seconds" (same page; views.open errors
	// expired_trigger_id / exchanged_trigger_id / invalid_trigger_id).
	DefaultTriggerTTL = 3 * time.Second
	// DefaultPingInterval is how often the fake pings each WebSocket.
	// slack-go's socketmode client reconnects when no ping arrives within its
	// OptionPingInterval (30 s by default).
	DefaultPingInterval = 5 * time.Second
	// DefaultMaxConnections is Slack's limit of open Socket Mode connections
	// per app: "up to 10" (docs.slack.dev/apis/events-api/using-socket-mode).
	DefaultMaxConnections = 10
	// DefaultMaxBlocksJSONBytes approximates the undocumented cap behind
	// msg_blocks_too_long: messages whose blocks serialise to roughly 13 k
	// characters are refused (DESIGN.md; reports in public projects put the
	// boundary near 13.2 kB of blocks JSON).
	DefaultMaxBlocksJSONBytes = 13200
)

// Options configures a Server. Zero fields take the Default* values.
type Options struct {
	TeamID     string
	TeamDomain string
	TeamName   string
	AppID      string
	// EnterpriseID, when set, is the Enterprise Grid organization the
	// workspace belongs to: auth.test names it and every payload carries
	// it (see WithEnterprise). Default: none.
	EnterpriseID string
	// AppToken is the app-level token (xapp-...) accepted by
	// apps.connections.open. BotToken (xoxb-...) is accepted by every other
	// Web API method. Any other token answers invalid_auth, a missing one
	// not_authed, the wrong kind not_allowed_token_type.
	AppToken  string
	BotToken  string
	BotUserID string
	BotID     string
	BotName   string
	// VerificationToken is the legacy `token` field Slack puts in payloads.
	VerificationToken string

	// Users are the workspace's people (and other bots). The bot user is
	// added automatically. Empty: alice (DefaultAliceID) and bob (DefaultBobID).
	Users []User
	// UserGroups are served by usergroups.list and usergroups.users.list.
	UserGroups []UserGroup
	// Channels are the conversations the workspace has. The bot is a member
	// of a channel when its user id is in Members. Empty: #ops
	// (DefaultOpsChannelID) and #alerts (DefaultAlertsChannelID) with the bot
	// and every user as members.
	Channels []Channel

	// PingInterval is how often the fake sends a WebSocket ping on each
	// connection (default DefaultPingInterval; negative: never).
	PingInterval time.Duration
	// AckTimeout is the ack deadline (default DefaultAckTimeout).
	AckTimeout time.Duration
	// TriggerTTL is how long a trigger_id stays usable (default DefaultTriggerTTL).
	TriggerTTL time.Duration
	// MaxConnections is the number of simultaneous Socket Mode connections
	// allowed per app (default DefaultMaxConnections); one more gets a
	// `too_many_websockets` disconnect.
	MaxConnections int
	// ConnectionLifetime, when positive, makes the fake send a
	// `refresh_requested` disconnect to each connection after it has been open
	// that long, as Slack does every few hours. It is also reported as
	// hello.debug_info.approximate_connection_time. Zero: never.
	ConnectionLifetime time.Duration
	// RateLimits limits calls per Web API method (nil: no limits). Use
	// SlackRateLimits for Slack's documented tiers.
	RateLimits map[string]RateLimit
	// MaxBlocksJSONBytes is the size of a message's blocks JSON above which
	// chat.postMessage and chat.update answer msg_blocks_too_long (default
	// DefaultMaxBlocksJSONBytes; negative: no limit).
	MaxBlocksJSONBytes int
	// HomeTabDisabled makes views.publish answer not_enabled, as for an
	// app whose App Home has no Home tab.
	HomeTabDisabled bool
	// Logf, if set, receives a line for every request and frame (for example
	// t.Logf). Tokens are never logged.
	Logf func(format string, args ...any)
}

// User is a member of the workspace.
type User struct {
	ID       string
	Name     string
	RealName string
	// TeamID defaults to the server's team. A user of another team can send
	// payloads (see WithTeam).
	TeamID  string
	IsBot   bool
	IsAdmin bool
	Deleted bool
}

// UserGroup is a Slack user group (a "subteam", mentioned as @handle).
type UserGroup struct {
	ID     string // S...
	Handle string
	Name   string
	Users  []string
}

// Channel is a conversation.
type Channel struct {
	ID         string // C... (or G... for old private channels)
	Name       string // without '#'
	IsPrivate  bool
	IsArchived bool
	// Members are user ids; include the bot's user id (DefaultBotUserID
	// unless configured) for the bot to be able to post and read history.
	Members []string
}

// Server is a running fake Slack. Create it with New and stop it with Close.
type Server struct {
	opts Options
	hs   *httptest.Server

	mu      sync.Mutex
	changed chan struct{}
	closed  bool
	done    chan struct{}
	wg      sync.WaitGroup

	users      map[string]*User
	userOrder  []string
	groups     map[string]*UserGroup
	groupOrder []string
	channels   map[string]*channelState
	chanOrder  []string

	lastTS    int64
	messages  map[string][]*Message // by channel, in ts order
	ephemeral []Ephemeral
	calls     []Call

	views     map[string]*viewState
	viewOrder []string
	stacks    map[string][]string // user -> open view ids, root first
	triggers  map[string]*trigger
	responses map[string]*responseURL
	homes     map[string]*homeState // user -> their App Home tab

	// Socket Mode
	tickets        map[string]bool
	conns          map[int]*wsConn
	nextConnID     int
	totalConns     int
	rr             int
	pinging        bool
	envelopes      map[string]*envState
	envOrder       []string
	unknownAcks    int
	duplicateAcks  int
	oversizedAcks  int
	connectionOpen int // apps.connections.open calls answered ok

	// Files of the external upload flow (files.go)
	files     map[string]*fileState
	fileOrder []string
	nextFile  int

	// Web API failure injection and rate limiting
	failNext map[string][]injectedFailure
	windows  map[string]*rateWindow
}

type channelState struct {
	Channel
	created int64
}

// New starts a fake Slack on 127.0.0.1 with the given options.
func New(opts Options) *Server {
	opts = withDefaults(opts)
	s := &Server{
		opts:      opts,
		changed:   make(chan struct{}),
		done:      make(chan struct{}),
		users:     map[string]*User{},
		groups:    map[string]*UserGroup{},
		channels:  map[string]*channelState{},
		messages:  map[string][]*Message{},
		views:     map[string]*viewState{},
		stacks:    map[string][]string{},
		triggers:  map[string]*trigger{},
		responses: map[string]*responseURL{},
		homes:     map[string]*homeState{},
		tickets:   map[string]bool{},
		conns:     map[int]*wsConn{},
		pinging:   opts.PingInterval > 0,
		envelopes: map[string]*envState{},
		failNext:  map[string][]injectedFailure{},
		windows:   map[string]*rateWindow{},
		files:     map[string]*fileState{},
	}
	for i := range opts.Users {
		u := opts.Users[i]
		s.users[u.ID] = &u
		s.userOrder = append(s.userOrder, u.ID)
	}
	for i := range opts.UserGroups {
		g := opts.UserGroups[i]
		s.groups[g.ID] = &g
		s.groupOrder = append(s.groupOrder, g.ID)
	}
	created := time.Now().Add(-24 * time.Hour).Unix()
	for _, c := range opts.Channels {
		s.channels[c.ID] = &channelState{Channel: c, created: created}
		s.chanOrder = append(s.chanOrder, c.ID)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.handleAPI)
	mux.HandleFunc("/link/", s.handleLink)
	mux.HandleFunc("/commands/", s.handleResponseURL)
	mux.HandleFunc("/actions/", s.handleResponseURL)
	mux.HandleFunc(UploadPath, s.handleUpload)
	s.hs = httptest.NewServer(mux)
	return s
}

func withDefaults(o Options) Options {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&o.TeamID, DefaultTeamID)
	def(&o.TeamDomain, DefaultTeamDomain)
	def(&o.TeamName, DefaultTeamName)
	def(&o.AppID, DefaultAppID)
	def(&o.AppToken, DefaultAppToken)
	def(&o.BotToken, DefaultBotToken)
	def(&o.BotUserID, DefaultBotUserID)
	def(&o.BotID, DefaultBotID)
	def(&o.BotName, DefaultBotName)
	def(&o.VerificationToken, DefaultVerificationToken)
	if o.PingInterval == 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = DefaultAckTimeout
	}
	if o.TriggerTTL <= 0 {
		o.TriggerTTL = DefaultTriggerTTL
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.MaxBlocksJSONBytes == 0 {
		o.MaxBlocksJSONBytes = DefaultMaxBlocksJSONBytes
	}

	users := make([]User, 0, len(o.Users)+1)
	if len(o.Users) == 0 {
		users = append(users,
			User{ID: DefaultAliceID, Name: "alice", RealName: "Alice Ops"},
			User{ID: DefaultBobID, Name: "bob", RealName: "Bob Oncall"})
	} else {
		users = append(users, o.Users...)
	}
	hasBot := false
	for i := range users {
		if users[i].TeamID == "" {
			users[i].TeamID = o.TeamID
		}
		if users[i].ID == o.BotUserID {
			hasBot = true
		}
	}
	if !hasBot {
		users = append(users, User{ID: o.BotUserID, Name: o.BotName, RealName: o.BotName, TeamID: o.TeamID, IsBot: true})
	}
	o.Users = users

	if len(o.Channels) == 0 {
		members := []string{}
		for _, u := range users {
			members = append(members, u.ID)
		}
		o.Channels = []Channel{
			{ID: DefaultOpsChannelID, Name: "ops", Members: members},
			{ID: DefaultAlertsChannelID, Name: "alerts", Members: append([]string(nil), members...)},
		}
	}
	rl := make(map[string]RateLimit, len(o.RateLimits))
	for k, v := range o.RateLimits {
		rl[k] = v
	}
	o.RateLimits = rl
	return o
}

// URL returns the server's base URL, "http://127.0.0.1:port".
func (s *Server) URL() string { return s.hs.URL }

// APIURL returns the Web API base URL to give slack.OptionAPIURL:
// URL()+"/api/".
func (s *Server) APIURL() string { return s.hs.URL + "/api/" }

// Options returns the options in effect, defaults filled in.
func (s *Server) Options() Options {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.opts
	o.RateLimits = make(map[string]RateLimit, len(s.opts.RateLimits))
	for k, v := range s.opts.RateLimits {
		o.RateLimits[k] = v
	}
	return o
}

// NewClient returns a slack.Client for the bot token and the app token,
// pointed at this server. Extra options come after the server's.
func (s *Server) NewClient(extra ...slack.Option) *slack.Client {
	opts := append([]slack.Option{
		slack.OptionAppLevelToken(s.opts.AppToken),
		slack.OptionAPIURL(s.APIURL()),
	}, extra...)
	return slack.New(s.opts.BotToken, opts...)
}

// Close closes every WebSocket and stops the server. It is safe to call
// more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	conns := make([]*wsConn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	for _, e := range s.envelopes {
		if e.timer != nil {
			e.timer.Stop()
		}
	}
	s.bumpLocked()
	s.mu.Unlock()
	for _, c := range conns {
		c.closeWith(1001, "server shutting down")
	}
	s.hs.Close()
	s.wg.Wait()
}

// bumpLocked wakes every WaitFor. s.mu must be held.
func (s *Server) bumpLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// WaitFor blocks until cond returns true or ctx is done. cond is evaluated
// now and after every change of the server's state (a call, a message, an
// ack, a connection...); it may call the Server's inspection methods.
func (s *Server) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("slacktest: condition not met: %w", context.Cause(ctx))
		}
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf("slacktest: "+format, args...)
	}
}

func (s *Server) userLocked(id string) (*User, bool) {
	u, ok := s.users[id]
	return u, ok
}

// channelLocked finds a channel by id, "#name" or name.
func (s *Server) channelLocked(ref string) (*channelState, bool) {
	if c, ok := s.channels[ref]; ok {
		return c, true
	}
	name := strings.TrimPrefix(ref, "#")
	for _, id := range s.chanOrder {
		if c := s.channels[id]; c.Name == name {
			return c, true
		}
	}
	return nil, false
}

func (c *channelState) isMember(user string) bool {
	for _, m := range c.Members {
		if m == user {
			return true
		}
	}
	return false
}

// AddUser adds (or replaces) a workspace user at run time.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.TeamID == "" {
		u.TeamID = s.opts.TeamID
	}
	if _, ok := s.users[u.ID]; !ok {
		s.userOrder = append(s.userOrder, u.ID)
	}
	s.users[u.ID] = &u
	s.bumpLocked()
}

// SetChannelMembers replaces a channel's members (for example to remove the
// bot and provoke not_in_channel).
func (s *Server) SetChannelMembers(channelID string, members []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[channelID]
	if !ok {
		return fmt.Errorf("slacktest: unknown channel %q", channelID)
	}
	c.Members = append([]string(nil), members...)
	s.bumpLocked()
	return nil
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomID returns prefix followed by n random upper-case letters and digits,
// the shape of Slack's ids (V0123ABCD, Ev0123ABCD).
func randomID(prefix string, n int) string { return prefix + randomString(idAlphabet, n) }

// randomString returns n characters drawn from alphabet.
func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// randomUUID returns a random version-4 UUID, the shape of envelope ids.
func randomUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// nextTSLocked returns a new message timestamp, unique and increasing, in
// Slack's "seconds.microseconds" form ("1732430000.000100").
func (s *Server) nextTSLocked() string {
	us := time.Now().UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return formatTS(us)
}

func formatTS(us int64) string {
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// parseTS parses "seconds.micro" into microseconds.
func parseTS(ts string) (int64, bool) {
	sec, frac, found := strings.Cut(ts, ".")
	if sec == "" {
		return 0, false
	}
	var s, f int64
	for _, r := range sec {
		if r < '0' || r > '9' {
			return 0, false
		}
		s = s*10 + int64(r-'0')
	}
	if found {
		if len(frac) > 6 {
			frac = frac[:6]
		}
		for len(frac) < 6 {
			frac += "0"
		}
		for _, r := range frac {
			if r < '0' || r > '9' {
				return 0, false
			}
			f = f*10 + int64(r-'0')
		}
	}
	return s*1e6 + f, true
}

// jsonCompact marshals v without HTML escaping.
func jsonCompact(v any) json.RawMessage {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only the package's own JSON-safe types are marshalled here.
		return json.RawMessage("null")
	}
	return json.RawMessage(strings.TrimSuffix(b.String(), "\n"))
}
