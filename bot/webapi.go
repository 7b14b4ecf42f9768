package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/opsbot/opsbot/internal/wait"
	"github.com/opsbot/opsbot/telemetry"
)

// Defaults of the Web API layer (SlackOptions).
const (
	// DefaultPostInterval spaces chat.postMessage calls to one channel:
	// Slack allows about one message per second per channel.
	DefaultPostInterval = time.Second
	// DefaultPostQueue is how many posts to one channel may wait for their
	// turn at once; more callers wait to join the queue (nothing is dropped).
	DefaultPostQueue = 64
	// DefaultAttempts is how many times a call is made, in all, when Slack
	// answers 429 or 5xx or the network fails, before its failure is returned.
	DefaultAttempts = 4
	// DefaultRetryBackoff is the first wait before retrying a 5xx or a
	// network failure; it doubles with each attempt (with jitter), up to
	// maxRetryBackoff.
	DefaultRetryBackoff = 500 * time.Millisecond
	maxRetryBackoff     = 30 * time.Second
)

// pacedMethods are the Web API methods limited per channel, whose calls
// wait for their turn in their channel's queue.
var pacedMethods = map[string]bool{"chat.postMessage": true}

// responseURLMethod names answers posted to an interaction's response_url
// (in logs, metrics and the rate-limit holds).
const responseURLMethod = "response_url"

// webAPI is the one layer between opsbot and Slack over HTTP: the slack-go
// client makes every Web API call through Do, and answers to a
// response_url go through RoundTrip. For every call it
//
//   - waits out Retry-After when Slack answers 429, and makes the next calls
//     of the same method (per channel for paced methods) wait as long;
//   - retries 5xx answers and network failures with jittered exponential
//     backoff;
//   - makes at most attempts calls, then returns the last answer (slack-go
//     turns it into a *slack.RateLimitedError or slack.StatusCodeError);
//   - paces chat.postMessage to one call per interval per channel, in a
//     first-come first-served queue per channel, bounded by queueCap: a
//     caller over the bound waits to join (backpressure), its context's
//     deadline ending the wait with an error saying so.
//
// The same goes for the POST of a file's bytes to its upload URL
// (uploadFile): it is not a Web API method, but Slack's file service
// answers 429 and 5xx like one, and the bytes are in memory, so it is
// retried the same way.
//
// apps.connections.open passes through untouched: the Socket Mode
// supervision has its own backoff.
type webAPI struct {
	webAPIOptions

	mu     sync.Mutex
	holds  map[string]time.Time // method (or method|channel) → no call before
	lanes  map[string]*lane     // method|channel → its queue
	queued int                  // posts in all lanes
	peak   int                  // the most posts queued at once (tests)
}

// lane is one channel's queue of posts. A post holds one of slots from
// joining to leaving (at most queueCap posts wait), and turn while it is
// sent; Go serves the goroutines waiting on a channel in order.
type lane struct {
	slots chan struct{}
	turn  chan struct{}
	next  time.Time // no post before (w.mu)
	users int       // posts holding or waiting for a slot (w.mu)
}

type webAPIOptions struct {
	next     *http.Client
	apiURL   string // the Web API base URL: calls are apiURL + method
	interval time.Duration
	queueCap int
	attempts int
	backoff  time.Duration
	log      *zap.Logger
	metrics  *telemetry.Metrics
}

func newWebAPI(o webAPIOptions) *webAPI {
	return &webAPI{webAPIOptions: o, holds: map[string]time.Time{}, lanes: map[string]*lane{}}
}

// RoundTrip implements http.RoundTripper, for response_url answers
// (slack.PostWebhookCustomHTTPContext takes an *http.Client).
func (w *webAPI) RoundTrip(req *http.Request) (*http.Response, error) { return w.Do(req) }

// Do sends req to Slack as the type's documentation says.
func (w *webAPI) Do(req *http.Request) (*http.Response, error) {
	method := w.method(req)
	if method == "apps.connections.open" {
		return w.next.Do(req)
	}
	ctx := req.Context()
	holdKey := method
	if pacedMethods[method] {
		if channel := requestChannel(req); channel != "" {
			holdKey = method + "|" + channel
			l, err := w.join(ctx, holdKey)
			if err != nil {
				return nil, fmt.Errorf("slack %s in channel %s: waiting for its turn (one post per %s per channel): %w",
					method, channel, w.interval, err)
			}
			defer w.leave(l)
		}
	}
	return w.send(ctx, req, method, holdKey)
}

// method is the Web API method req calls ("chat.postMessage"), the name
// its context carries (uploadMethod), or responseURLMethod.
func (w *webAPI) method(req *http.Request) string {
	if m, ok := telemetry.SlackMethod(req.Context()); ok {
		return m
	}
	u := req.URL.String()
	if strings.HasPrefix(u, w.apiURL) {
		m, _, _ := strings.Cut(strings.TrimPrefix(u, w.apiURL), "?")
		return m
	}
	return responseURLMethod
}

// send makes req, retrying as the type's documentation says.
func (w *webAPI) send(ctx context.Context, req *http.Request, method, holdKey string) (*http.Response, error) {
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 1; ; attempt++ {
		if err := w.waitHold(ctx, holdKey); err != nil {
			return nil, fmt.Errorf("slack %s: waiting out a rate limit: %w", method, err)
		}
		r := req
		if attempt > 1 {
			r = req.Clone(ctx)
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, fmt.Errorf("slack %s: replaying the request: %w", method, err)
				}
				r.Body = body
			}
		}
		resp, err := w.next.Do(r)
		reason, pause := w.classify(resp, err, attempt)
		if reason == "" || ctx.Err() != nil {
			return resp, err
		}
		if reason == "rate_limited" {
			w.hold(holdKey, pause)
		}
		if attempt >= w.attempts || !replayable || !w.fits(ctx, pause) {
			w.log.Warn("Slack call failed; not retrying", zap.String("method", method), zap.String("reason", reason),
				zap.Int("attempts", attempt), zap.Bool("replayable", replayable), zap.Error(err))
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
		w.metrics.SlackRetry(method, reason)
		w.log.Debug("retrying a Slack call", zap.String("method", method), zap.String("reason", reason),
			zap.Int("attempt", attempt), zap.Duration("after", pause))
		if reason != "rate_limited" {
			if err := wait.Sleep(ctx, pause); err != nil {
				return nil, fmt.Errorf("slack %s: waiting to retry: %w", method, err)
			}
		}
	}
}

// classify says why an answer is worth retrying ("rate_limited",
// "server_error", "transport_error"; "" when it is not) and after how long.
func (w *webAPI) classify(resp *http.Response, err error, attempt int) (string, time.Duration) {
	switch {
	case err != nil:
		return "transport_error", w.backoffFor(attempt)
	case resp.StatusCode == http.StatusTooManyRequests:
		secs, perr := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After")))
		if perr != nil || secs < 1 {
			secs = 1
		}
		return "rate_limited", time.Duration(secs) * time.Second
	case resp.StatusCode >= 500:
		return "server_error", w.backoffFor(attempt)
	}
	return "", 0
}

// backoffFor is the wait after the attempt-th call failed: backoff
// doubled attempt-1 times, capped, plus up to half of it at random.
func (w *webAPI) backoffFor(attempt int) time.Duration {
	d := w.backoff
	for i := 1; i < attempt && d < maxRetryBackoff; i++ {
		d *= 2
	}
	d = min(d, maxRetryBackoff)
	return d + rand.N(d/2+1) // #nosec G404 -- jitter needs no cryptographic randomness
}

// fits reports whether ctx's deadline leaves time to wait d and try again.
func (w *webAPI) fits(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > d
}

// hold makes the calls of key wait d from now (Retry-After).
func (w *webAPI) hold(key string, d time.Duration) {
	until := time.Now().Add(d)
	w.mu.Lock()
	defer w.mu.Unlock()
	if until.After(w.holds[key]) {
		w.holds[key] = until
	}
}

// waitHold waits until the calls of key may go.
func (w *webAPI) waitHold(ctx context.Context, key string) error {
	for {
		w.mu.Lock()
		until, ok := w.holds[key]
		now := time.Now()
		if ok && !until.After(now) {
			delete(w.holds, key)
		}
		w.mu.Unlock()
		if !ok || !until.After(now) {
			return nil
		}
		if err := wait.Sleep(ctx, until.Sub(now)); err != nil {
			return err
		}
	}
}

// join waits for a place in key's queue, then for its turn and for the
// interval since the previous post to pass.
func (w *webAPI) join(ctx context.Context, key string) (*lane, error) {
	w.mu.Lock()
	l := w.lanes[key]
	if l == nil {
		w.pruneLocked()
		l = &lane{slots: make(chan struct{}, w.queueCap), turn: make(chan struct{}, 1)}
		w.lanes[key] = l
	}
	l.users++
	w.mu.Unlock()

	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		w.release(l, false)
		return nil, fmt.Errorf("%d posts are queued already: %w", w.queueCap, context.Cause(ctx))
	}
	w.mu.Lock()
	w.queued++
	w.peak = max(w.peak, w.queued)
	w.mu.Unlock()
	w.metrics.SlackPostQueued(1)

	select {
	case l.turn <- struct{}{}:
	case <-ctx.Done():
		w.release(l, true)
		return nil, context.Cause(ctx)
	}
	w.mu.Lock()
	next := l.next
	w.mu.Unlock()
	if err := wait.Sleep(ctx, time.Until(next)); err != nil {
		<-l.turn
		w.release(l, true)
		return nil, err
	}
	return l, nil
}

// leave ends a post's turn: the next post in its queue may go after the
// interval, counted from now (when Slack has answered: its clock saw this
// post before now, so it sees the next one at least the interval later).
func (w *webAPI) leave(l *lane) {
	w.mu.Lock()
	l.next = time.Now().Add(w.interval)
	w.mu.Unlock()
	<-l.turn
	w.release(l, true)
}

// release gives back a post's place in its lane (slot: it had one).
func (w *webAPI) release(l *lane, slot bool) {
	if slot {
		<-l.slots
		w.metrics.SlackPostQueued(-1)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if slot {
		w.queued--
	}
	l.users--
}

// pruneLocked forgets the lanes nobody uses whose interval has passed:
// one lane per channel posted to recently, not per channel ever posted to.
func (w *webAPI) pruneLocked() {
	now := time.Now()
	for k, l := range w.lanes {
		if l.users == 0 && !l.next.After(now) {
			delete(w.lanes, k)
		}
	}
}

// peakQueued is the most posts that were queued at once.
func (w *webAPI) peakQueued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak
}

// requestChannel is the `channel` argument of a Web API request (form,
// query or JSON), or "".
func requestChannel(req *http.Request) string {
	if c := req.URL.Query().Get("channel"); c != "" {
		return c
	}
	if req.GetBody == nil {
		return ""
	}
	rc, err := req.GetBody()
	if err != nil {
		return ""
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil {
		return ""
	}
	ct, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if ct == "application/json" {
		var v struct {
			Channel string `json:"channel"`
		}
		if json.NewDecoder(bytes.NewReader(body)).Decode(&v) != nil {
			return ""
		}
		return v.Channel
	}
	q, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return q.Get("channel")
}
