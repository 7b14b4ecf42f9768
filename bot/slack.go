package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/telemetry"
)

// DefaultAPIURL is Slack's Web API base URL.
const DefaultAPIURL = "https://slack.com/api/"

// DefaultUpdateInterval spaces the chat.update calls of checklist progress:
// chat.update is Tier 3 (about 50 a minute per workspace).
const DefaultUpdateInterval = 1200 * time.Millisecond

// SlackOptions say how to reach Slack.
type SlackOptions struct {
	// AppToken (xapp-) opens Socket Mode connections; BotToken (xoxb-)
	// calls the Web API. Neither is ever logged.
	AppToken string
	BotToken string
	// APIURL is the Web API base URL (default DefaultAPIURL; GovSlack and
	// the tests have their own).
	APIURL     string
	HTTPClient *http.Client
	// UpdateInterval spaces chat.update calls workspace-wide (default
	// DefaultUpdateInterval).
	UpdateInterval time.Duration
	// PostInterval spaces chat.postMessage calls to one channel (default
	// DefaultPostInterval, Slack's one message per second per channel).
	PostInterval time.Duration
	// PostQueue bounds the posts waiting for their turn in one channel
	// (default DefaultPostQueue); more callers wait to join the queue.
	PostQueue int
	// Attempts is how many times a Web API call is made in all when Slack
	// answers 429 or 5xx or the network fails (default DefaultAttempts).
	Attempts int
	// RetryBackoff is the first wait before retrying a 5xx or a network
	// failure, doubled with each attempt (default DefaultRetryBackoff).
	RetryBackoff time.Duration
	Logger       *zap.Logger
	// Metrics, if set, count the Web API calls by method and outcome.
	Metrics *telemetry.Metrics
}

// Slack is opsbot's way to Slack's Web API, shared by everything that
// posts: the Bot, the anomalies' threads (NewThreads) and the incidents'
// announcements (NewAnnouncer). It holds the client, whose every call
// goes through one layer that honours Slack's limits (webAPI: Retry-After,
// 5xx retries, posts paced per channel), the spacing of chat.update calls,
// and what it learnt of names and permalinks. Build one per process, in
// cmd/opsbot, with NewSlack.
type Slack struct {
	api        *slack.Client
	web        *webAPI
	httpClient *http.Client // response_url answers, through web
	log        *zap.Logger
	spacer     *spacer
	names      *names
	links      *permalinks
}

// NewSlack checks o and returns the Slack client. Nothing is contacted.
func NewSlack(o SlackOptions) (*Slack, error) {
	var errs []error
	if !strings.HasPrefix(o.AppToken, "xapp-") {
		errs = append(errs, errors.New("the app-level token (SLACK_APP_TOKEN, xapp-...) is required"))
	}
	if !strings.HasPrefix(o.BotToken, "xoxb-") {
		errs = append(errs, errors.New("the bot token (SLACK_BOT_TOKEN, xoxb-...) is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("slack: %w", err)
	}
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Metrics != nil {
		counted := *o.HTTPClient
		counted.Transport = o.Metrics.SlackTransport(counted.Transport)
		o.HTTPClient = &counted
	}
	orDefault(&o.UpdateInterval, DefaultUpdateInterval)
	orDefault(&o.PostInterval, DefaultPostInterval)
	orDefault(&o.PostQueue, DefaultPostQueue)
	orDefault(&o.Attempts, DefaultAttempts)
	orDefault(&o.RetryBackoff, DefaultRetryBackoff)
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	web := newWebAPI(webAPIOptions{next: o.HTTPClient, apiURL: o.APIURL, interval: o.PostInterval,
		queueCap: o.PostQueue, attempts: o.Attempts, backoff: o.RetryBackoff,
		log: o.Logger.Named("webapi"), metrics: o.Metrics})
	api := slack.New(o.BotToken,
		slack.OptionAppLevelToken(o.AppToken),
		slack.OptionAPIURL(o.APIURL),
		slack.OptionHTTPClient(web),
	)
	return &Slack{api: api, web: web, httpClient: &http.Client{Transport: web}, log: o.Logger,
		spacer: &spacer{gap: o.UpdateInterval}, names: newNames(api), links: newPermalinks()}, nil
}

// Client is the Web API client, its calls through the same layer as the
// bot's (the alertschannel check reads the channel's history with it).
func (s *Slack) Client() *slack.Client { return s.api }

// update is chat.update. The Web API layer waits out rate limits
// (Retry-After), and after a 429 it holds the method's next calls, so the
// spacer's slots need no pushing back.
func (s *Slack) update(ctx context.Context, channel, ts string, opts ...slack.MsgOption) error {
	_, _, _, err := s.api.UpdateMessageContext(ctx, channel, ts, opts...)
	return err
}

// permalink returns a link to the message (channel, ts), or "" when Slack
// cannot give one.
func (s *Slack) permalink(ctx context.Context, channel, ts string) string {
	key := channel + "/" + ts
	p := s.links
	p.mu.Lock()
	link, ok := p.m[key]
	p.mu.Unlock()
	if ok {
		return link
	}
	link, err := s.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: ts})
	if err != nil {
		s.log.Warn("chat.getPermalink failed", zap.String("channel", channel), zap.String("ts", ts), zap.Error(err))
		return ""
	}
	p.mu.Lock()
	if len(p.m) > 4096 {
		clear(p.m)
	}
	p.m[key] = link
	p.mu.Unlock()
	return link
}

// KnownName shows a user as "@name" from the names seen in payloads,
// without calling Slack (the incident Service's Mention has no context);
// opsbot never mentions users.
func (s *Slack) KnownName(id string) string {
	n := s.names
	n.mu.Lock()
	name := n.m[id]
	n.mu.Unlock()
	if name == "" {
		name = id
	}
	return Escape("@" + name)
}

// channelUnusable reports whether Slack refused a post because of the
// channel (the bot is not in it, it is gone or archived, posting there is
// restricted), not because of the message, the rate or the network.
func channelUnusable(err error) bool {
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		return false
	}
	switch se.Err {
	case "not_in_channel", "channel_not_found", "is_archived", "user_not_in_channel", "restricted_action":
		return true
	}
	return false
}
