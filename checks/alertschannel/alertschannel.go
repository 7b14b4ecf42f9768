// Package alertschannel is the runbook's "look at the alerts channel": what
// was posted to the team's alerts channel since the checklist last ran.
//
// The check reads the channel's history with conversations.history (newest
// first, following the pagination cursor, at most maxMessages posts) and
// classifies each bot post:
//
//   - Alertmanager notifications (its Slack receiver's default title,
//     "[FIRING:3] KubePodCrashLooping (shop critical)" or "[RESOLVED] ...",
//     in an attachment, the message text or its first block) are counted by
//     alert name, firing and resolved apart;
//   - exception reports (Sentry's issue alerts, in its attachment or Block
//     Kit layout, or any bot post titled like "ValueError: ..." or
//     "Error: ...") are counted by title, with numbers and ids normalised;
//   - everything else (people talking, other bots) is ignored.
//
// It reports one finding per alert name and one per exception title. An
// alert is Fail when one of its notification groups is still firing at the
// end of the window (its latest post is [FIRING]) or when it was critical
// (severity critical/page/error/high in the title or text); an alert that
// fired and resolved, and every exception, is Warn.
//
// Thread replies are not read (notifications are top-level posts). Links
// point at the latest post: its permalink (chat.getPermalink) for the first
// few findings when the client can make one, otherwise
// https://slack.com/archives/<channel>/p<ts without the dot>, which Slack
// redirects to the message in the user's workspace.
package alertschannel

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/internal/httpx"
	"github.com/opsbot/opsbot/internal/wait"
)

// Name is the check's name.
const Name = "alertschannel"

const (
	// pageSize is the limit of each conversations.history call; Slack
	// recommends no more than 200.
	pageSize = 200
	// permalinkFindings is how many findings (the first, most severe) get
	// a chat.getPermalink call; the rest get a channel link.
	permalinkFindings = 5
	// maxRateLimitRetries is how many times a rate-limited page is retried
	// (each after Slack's Retry-After, if the deadline allows).
	maxRateLimitRetries = 3
	// maxSampleRunes bounds each text kept in a finding's detail.
	maxSampleRunes = 300
)

// History reads a conversation's history. *slack.Client implements it.
type History interface {
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
}

// Permalinker makes a message's permalink (chat.getPermalink).
// *slack.Client implements it; a History that does not is used without
// permalinks.
type Permalinker interface {
	GetPermalinkContext(ctx context.Context, params *slack.PermalinkParameters) (string, error)
}

// Options are the check's dependencies besides the Slack client and the
// configuration. Every field is optional.
type Options struct {
	// Since returns when the checklist last ran: the check reads the posts
	// after it. Nil, or a zero time, means the configured window back from
	// now.
	Since func(ctx context.Context) (time.Time, error)
	// Now is the check's clock; time.Now when nil.
	Now func() time.Time
	// Location is the time zone of the summary ("since 09:30 yesterday");
	// time.Local when nil.
	Location *time.Location
	// BotName is the bot's name in the advice to invite it ("/invite
	// @opsbot"); "opsbot" when empty.
	BotName string
	// Logger receives debug and warning lines; a no-op logger when nil.
	Logger *zap.Logger
}

// Check reads the alerts channel. Create it with New.
type Check struct {
	cfg    Config
	api    History
	opts   Options
	trust  trust
	logger *zap.Logger
	// wait sleeps for d or until ctx is done (a rate limit's Retry-After);
	// tests replace it.
	wait func(ctx context.Context, d time.Duration) error
}

// New returns the alertschannel check reading cfg.Channel with api
// (normally a *slack.Client with the bot token; it needs the
// channels:history scope, groups:history for a private channel). cfg is
// defaulted and validated.
func New(api History, cfg Config, opts Options) (*Check, error) {
	if api == nil {
		return nil, errors.New("alertschannel: nil Slack client")
	}
	cfg.SetDefaults()
	cfg.Channel = strings.TrimSpace(cfg.Channel)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.BotName == "" {
		opts.BotName = "opsbot"
	}
	logger := opts.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Check{
		cfg:    cfg,
		api:    api,
		opts:   opts,
		trust:  trust{alert: trustSet(cfg.AlertBots), exception: trustSet(cfg.ExceptionBots)},
		logger: logger.With(zap.String("check", Name)),
		wait:   wait.Sleep,
	}, nil
}

// Name returns "alertschannel".
func (c *Check) Name() string { return Name }

// Timeout returns the check's deadline (config key timeout).
func (c *Check) Timeout() time.Duration { return time.Duration(c.cfg.Timeout) }

// Run reads the channel since the last run and reports what was posted.
func (c *Check) Run(ctx context.Context) checks.Result {
	ctx, cancel := context.WithTimeoutCause(ctx, c.Timeout(),
		fmt.Errorf("no answer from Slack within %s", c.Timeout()))
	defer cancel()

	now := c.opts.Now()
	start := now.Add(-time.Duration(c.cfg.Window))
	if c.opts.Since != nil {
		s, err := c.opts.Since(ctx)
		if err != nil {
			c.logger.Warn("cannot tell when the checklist last ran", zap.Error(err))
			return checks.UnknownResult("cannot tell when the checklist last ran: " + err.Error())
		}
		if !s.IsZero() && s.Before(now) {
			start = s
		}
	}

	msgs, capped, err := c.read(ctx, start, now)
	res := c.evaluate(ctx, msgs, start, now, capped)
	if err != nil {
		reason := c.describe(ctx, err)
		c.logger.Warn("could not read the alerts channel", zap.Error(err), zap.Int("read", len(msgs)))
		if len(msgs) == 0 {
			return checks.UnknownResult(reason)
		}
		// What was read is shown, but the check cannot claim to have
		// looked at everything.
		res.Status = checks.Unknown
		res.Summary = reason + "; before that: " + res.Summary
	}
	return res
}

// read returns the channel's messages posted after start and before end,
// newest first, at most cfg.MaxMessages of them. capped reports that there
// were more. On an error it returns what it had read before it.
func (c *Check) read(ctx context.Context, start, end time.Time) (msgs []slack.Message, capped bool, err error) {
	params := &slack.GetConversationHistoryParameters{
		ChannelID: c.cfg.Channel,
		Oldest:    slackTS(start),
		Latest:    slackTS(end),
	}
	for {
		params.Limit = min(pageSize, c.cfg.MaxMessages-len(msgs))
		resp, err := c.page(ctx, params)
		if err != nil {
			return msgs, false, err
		}
		page := resp.Messages
		if room := c.cfg.MaxMessages - len(msgs); len(page) > room {
			page, resp.HasMore = page[:room], true
		}
		msgs = append(msgs, page...)
		next := resp.ResponseMetaData.NextCursor
		c.logger.Debug("read a page of history", zap.Int("messages", len(page)), zap.Bool("hasMore", resp.HasMore))
		if !resp.HasMore || next == "" {
			return msgs, false, nil
		}
		if len(msgs) >= c.cfg.MaxMessages {
			return msgs, true, nil
		}
		params.Cursor = next
	}
}

// page makes one conversations.history call, waiting out rate limits when
// the deadline allows.
func (c *Check) page(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error) {
	for attempt := 0; ; attempt++ {
		resp, err := c.api.GetConversationHistoryContext(ctx, params)
		if err == nil {
			return resp, nil
		}
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) || attempt >= maxRateLimitRetries {
			return nil, err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < rl.RetryAfter {
			return nil, err
		}
		c.logger.Debug("rate limited; waiting", zap.Duration("retryAfter", rl.RetryAfter))
		if werr := c.wait(ctx, rl.RetryAfter); werr != nil {
			return nil, err
		}
	}
}

// describe turns a Slack error into a specific, actionable reason. It never
// contains the token (slack-go sends it in the request body, not the URL).
func (c *Check) describe(ctx context.Context, err error) string {
	ch := c.cfg.Channel
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return fmt.Sprintf("Slack rate-limited reading channel %s (conversations.history; retry after %s)", ch, rl.RetryAfter)
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "not_in_channel":
			return fmt.Sprintf("the bot is not in channel %s (not_in_channel): /invite @%s in that channel", ch, c.opts.BotName)
		case "channel_not_found":
			return fmt.Sprintf("channel %s not found (channel_not_found): check the channel ID; for a private channel, /invite @%s first", ch, c.opts.BotName)
		case "missing_scope":
			needed := se.Needed
			if needed == "" {
				needed = "channels:history (groups:history for a private channel)"
			}
			return fmt.Sprintf("the Slack app lacks the scope to read channel %s (missing_scope, needs %s): add it under OAuth & Permissions and reinstall the app", ch, needed)
		case "ratelimited":
			return fmt.Sprintf("Slack rate-limited reading channel %s (conversations.history)", ch)
		case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive":
			return fmt.Sprintf("Slack refused the bot token (%s) reading channel %s: check SLACK_BOT_TOKEN", se.Err, ch)
		case "invalid_cursor":
			return fmt.Sprintf("Slack refused the pagination cursor reading channel %s (invalid_cursor)", ch)
		}
		return fmt.Sprintf("Slack error reading channel %s: %s", ch, se.Err)
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return fmt.Sprintf("Slack answered HTTP %d reading channel %s", sc.Code, ch)
	}
	_, msg := httpx.Classify(ctx, err)
	return fmt.Sprintf("could not read channel %s from Slack: %s", ch, msg)
}

// alertAgg is what the window holds about one alert name.
type alertAgg struct {
	name     string
	posts    int
	fired    int
	resolved int
	critical bool
	// groups maps a notification group to whether its latest post fires.
	groups map[string]bool
	latest post // the newest post
}

func (a *alertAgg) stillFiring() bool {
	for _, f := range a.groups {
		if f {
			return true
		}
	}
	return false
}

// excAgg is what the window holds about one exception.
type excAgg struct {
	key      string
	posts    int
	projects []string
	titles   []string // distinct raw titles, newest first
	latest   post
}

// evaluate turns the messages (newest first) into a result.
func (c *Check) evaluate(ctx context.Context, msgs []slack.Message, start, now time.Time, capped bool) checks.Result {
	alertsBy := map[string]*alertAgg{}
	excBy := map[string]*excAgg{}
	for i := range msgs {
		p := classify(&msgs[i], c.trust)
		switch p.kind {
		case kindAlert:
			a := alertsBy[p.name]
			if a == nil {
				a = &alertAgg{name: p.name, groups: map[string]bool{}, latest: p}
				alertsBy[p.name] = a
			}
			a.posts++
			if p.firing {
				a.fired++
			} else {
				a.resolved++
			}
			a.critical = a.critical || p.critical
			if _, seen := a.groups[p.group]; !seen { // newest first: the first seen is the latest
				a.groups[p.group] = p.firing
			}
		case kindException:
			e := excBy[p.key]
			if e == nil {
				e = &excAgg{key: p.key, latest: p}
				excBy[p.key] = e
			}
			e.posts++
			if p.project != "" && !slices.Contains(e.projects, p.project) {
				e.projects = append(e.projects, p.project)
			}
			if !slices.Contains(e.titles, p.title) {
				e.titles = append(e.titles, p.title)
			}
		}
	}

	type ranked struct {
		f      checks.Finding
		firing bool
		ts     string
	}
	var all []ranked
	firingN := 0
	for _, a := range alertsBy {
		f := c.alertFinding(a, now)
		if a.stillFiring() {
			firingN++
		}
		all = append(all, ranked{f, a.stillFiring(), a.latest.ts})
	}
	for _, e := range excBy {
		all = append(all, ranked{c.exceptionFinding(e), false, e.latest.ts})
	}
	// Worst first, then still firing, then the most posted, then by title.
	slices.SortFunc(all, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(b.f.Severity, a.f.Severity), boolCmp(b.firing, a.firing),
			cmp.Compare(b.f.Count, a.f.Count), strings.Compare(a.f.Title, b.f.Title))
	})
	findings := make([]checks.Finding, len(all))
	for i, r := range all {
		findings[i] = r.f
		findings[i].Link = c.link(ctx, r.ts, i < permalinkFindings)
	}

	res := checks.Result{Status: checks.Summarize(findings), Findings: findings}
	var what string
	switch {
	case len(alertsBy) == 0 && len(excBy) == 0:
		what = "no alerts or exceptions"
	default:
		var parts []string
		if n := len(alertsBy); n > 0 {
			s := fmt.Sprintf("%d %s", n, plural(n, "alert"))
			if firingN > 0 {
				s += fmt.Sprintf(" (%d still firing)", firingN)
			}
			parts = append(parts, s)
		}
		if n := len(excBy); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, plural(n, "exception")))
		}
		what = strings.Join(parts, ", ")
	}
	res.Summary = fmt.Sprintf("%d %s since %s: %s", len(msgs), plural(len(msgs), "post"), sinceText(start, now, c.opts.Location), what)
	if capped {
		res.Summary += fmt.Sprintf(" (read the newest %d posts only: maxMessages)", len(msgs))
	}
	return res
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// alertFinding builds the finding of one alert name.
func (c *Check) alertFinding(a *alertAgg, now time.Time) checks.Finding {
	firing := a.stillFiring()
	sev := checks.Warn
	if firing || a.critical {
		sev = checks.Fail
	}
	var state []string
	if firing {
		state = append(state, "still firing")
	} else {
		state = append(state, "resolved")
	}
	if a.critical {
		state = append(state, "critical")
	}
	var detail string
	if a.resolved == 0 {
		detail = fmt.Sprintf("%d firing %s, none resolved", a.fired, plural(a.fired, "notification"))
	} else {
		detail = fmt.Sprintf("%d firing and %d resolved notifications", a.fired, a.resolved)
	}
	detail += fmt.Sprintf("; latest (%s): %s", c.when(a.latest.ts, now), httpx.Truncate(a.latest.line, maxSampleRunes))
	return checks.Finding{
		Fingerprint: checks.Fingerprint(Name, "alert", a.name),
		Severity:    sev,
		Object:      a.name,
		Title:       fmt.Sprintf("%s posted %s (%s)", a.name, times(a.posts), strings.Join(state, ", ")),
		Detail:      detail,
		Count:       a.posts,
	}
}

// exceptionFinding builds the finding of one exception.
func (c *Check) exceptionFinding(e *excAgg) checks.Finding {
	var lines []string
	for i, t := range e.titles {
		if i == 3 {
			lines = append(lines, fmt.Sprintf("(and %d more)", len(e.titles)-3))
			break
		}
		lines = append(lines, httpx.Truncate(t, maxSampleRunes))
	}
	detail := strings.Join(lines, "\n")
	if len(e.projects) > 0 {
		detail = "project " + strings.Join(e.projects, ", ") + "\n" + detail
	}
	return checks.Finding{
		Fingerprint: checks.Fingerprint(Name, "exception", e.key),
		Severity:    checks.Warn,
		Object:      strings.Join(e.projects, ", "),
		Title:       fmt.Sprintf("%s posted %s", httpx.Truncate(e.latest.title, 150), times(e.posts)),
		Detail:      detail,
		Count:       e.posts,
	}
}

// link returns the permalink of the message at ts: from chat.getPermalink
// when asked to and the client can, else the generic archive link.
func (c *Check) link(ctx context.Context, ts string, permalink bool) string {
	if pl, ok := c.api.(Permalinker); ok && permalink && ctx.Err() == nil {
		l, err := pl.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: c.cfg.Channel, Ts: ts})
		if err == nil && l != "" {
			return l
		}
		c.logger.Debug("no permalink; using the archive link", zap.String("ts", ts), zap.Error(err))
	}
	return ArchiveLink(c.cfg.Channel, ts)
}

// ArchiveLink is the web link of the message at ts in channel that needs no
// API call: https://slack.com/archives/<channel>/p<ts without the dot>.
// Slack redirects it to the message in the signed-in user's workspace.
func ArchiveLink(channel, ts string) string {
	return "https://slack.com/archives/" + url.PathEscape(channel) + "/p" + strings.ReplaceAll(ts, ".", "")
}

// when says when the message at ts was posted, relative to now.
func (c *Check) when(ts string, now time.Time) string {
	t, ok := tsTime(ts)
	if !ok {
		return "ts " + ts
	}
	return sinceText(t, now, c.opts.Location)
}

// tsTime parses a Slack timestamp.
func tsTime(ts string) (time.Time, bool) {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	var us int64
	if frac != "" {
		frac = (frac + "000000")[:6]
		if us, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, false
		}
	}
	return time.Unix(s, us*1000), true
}

// slackTS formats t as a Slack timestamp ("1764000000.000000").
func slackTS(t time.Time) string {
	us := t.UnixMicro()
	return strconv.FormatInt(us/1e6, 10) + "." + fmt.Sprintf("%06d", us%1e6)
}

// sinceText says when start was, relative to now, in loc: "09:30",
// "09:30 yesterday", "Fri 09:30", "2 Nov 09:30".
func sinceText(start, now time.Time, loc *time.Location) string {
	s, n := start.In(loc), now.In(loc)
	sy, sm, sd := s.Date()
	ny, nm, nd := n.Date()
	sDay := time.Date(sy, sm, sd, 0, 0, 0, 0, time.UTC)
	nDay := time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)
	days := int(nDay.Sub(sDay).Hours() / 24)
	hm := s.Format("15:04")
	switch {
	case days == 0:
		return hm
	case days == 1:
		return hm + " yesterday"
	case days < 7:
		return s.Format("Mon") + " " + hm
	case sy == ny:
		return s.Format("2 Jan") + " " + hm
	}
	return s.Format("2 Jan 2006") + " " + hm
}

// times is "once" or "5×".
func times(n int) string {
	if n == 1 {
		return "once"
	}
	return strconv.Itoa(n) + "×"
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
