package slacktest

import (
	"net/url"
	"time"
)

// RateLimit allows Requests calls to a method per Window (a fixed window
// that starts with the first call). PerChannel keeps one window per
// `channel` argument, as chat.postMessage's "1 message per second per
// channel" limit does. A call over the limit answers HTTP 429 with a
// Retry-After header (seconds until the window ends) and
// {"ok":false,"error":"ratelimited"}.
type RateLimit struct {
	Requests   int
	Window     time.Duration
	PerChannel bool
}

// Slack's Web API rate-limit tiers (docs.slack.dev/apis/web-api/rate-limits):
// Tier 1 is 1+ per minute, Tier 2 20+, Tier 3 50+, Tier 4 100+.
var (
	Tier1 = RateLimit{Requests: 1, Window: time.Minute}
	Tier2 = RateLimit{Requests: 20, Window: time.Minute}
	Tier3 = RateLimit{Requests: 50, Window: time.Minute}
	Tier4 = RateLimit{Requests: 100, Window: time.Minute}
	// PostMessageLimit is chat.postMessage's "special" limit: about one
	// message per second per channel (bursts are tolerated by Slack for a
	// short while; the fake is strict).
	PostMessageLimit = RateLimit{Requests: 1, Window: time.Second, PerChannel: true}
)

// SlackRateLimits returns the documented limit of each method the fake
// serves (each method's reference page names its tier).
func SlackRateLimits() map[string]RateLimit {
	return map[string]RateLimit{
		"apps.connections.open": Tier3,
		"auth.test":             Tier4,
		"chat.postMessage":      PostMessageLimit,
		"chat.update":           Tier3,
		"chat.postEphemeral":    Tier4,
		"chat.getPermalink":     Tier4,
		"conversations.history": Tier3,
		"conversations.replies": Tier3,
		"conversations.info":    Tier3,
		"users.info":            Tier4,
		"usergroups.list":       Tier2,
		"usergroups.users.list": Tier2,
		"views.open":            Tier4,
		"views.push":            Tier4,
		"views.update":          Tier4,

		"files.getUploadURLExternal":   Tier4,
		"files.completeUploadExternal": Tier4,
		"views.publish":                Tier4,
	}
}

type rateWindow struct {
	start time.Time
	count int
}

// SetRateLimit sets (or, with a zero RateLimit, removes) method's limit.
func (s *Server) SetRateLimit(method string, l RateLimit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.Requests <= 0 || l.Window <= 0 {
		delete(s.opts.RateLimits, method)
	} else {
		s.opts.RateLimits[method] = l
	}
	for k := range s.windows {
		if k == method || len(k) > len(method) && k[:len(method)+1] == method+"|" {
			delete(s.windows, k)
		}
	}
}

// rateLimitedLocked counts a call against method's limit and reports how
// long the caller must wait when it is over.
func (s *Server) rateLimitedLocked(method string, args url.Values, now time.Time) (time.Duration, bool) {
	l, ok := s.opts.RateLimits[method]
	if !ok || l.Requests <= 0 || l.Window <= 0 {
		return 0, false
	}
	key := method
	if l.PerChannel {
		key += "|" + args.Get("channel")
	}
	w := s.windows[key]
	if w == nil || now.Sub(w.start) >= l.Window {
		w = &rateWindow{start: now}
		s.windows[key] = w
	}
	if w.count >= l.Requests {
		return w.start.Add(l.Window).Sub(now), true
	}
	w.count++
	return 0, false
}
