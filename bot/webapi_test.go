package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/opsbot/opsbot/bot/slacktest"
)

// newLayered is a Slack client of fs, through the Web API layer, with o's
// pacing and retry settings.
func newLayered(t *testing.T, fs *slacktest.Server, o SlackOptions) *Slack {
	t.Helper()
	fo := fs.Options()
	o.AppToken, o.BotToken, o.APIURL = fo.AppToken, fo.BotToken, fs.APIURL()
	if o.RetryBackoff == 0 {
		o.RetryBackoff = time.Millisecond
	}
	sl, err := NewSlack(o)
	if err != nil {
		t.Fatal(err)
	}
	return sl
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newTestFake(t *testing.T, o slacktest.Options) *slacktest.Server {
	fs := slacktest.New(o)
	t.Cleanup(fs.Close)
	return fs
}

func TestWebAPIWaitsOutRetryAfter(t *testing.T) {
	fs := newTestFake(t, slacktest.Options{})
	sl := newLayered(t, fs, SlackOptions{})
	ctx := testContext(t)

	fs.RateLimitNext("chat.postMessage", 1, time.Second)
	if _, _, err := sl.api.PostMessageContext(ctx, slacktest.DefaultOpsChannelID, slack.MsgOptionText("hello", false)); err != nil {
		t.Fatalf("a post answered 429 once: %v", err)
	}
	calls := fs.Calls("chat.postMessage")
	if len(calls) != 2 || calls[0].Status != http.StatusTooManyRequests || calls[1].Status != http.StatusOK {
		t.Fatalf("calls = %+v, want a 429 then a 200", calls)
	}
	if gap := calls[1].Time.Sub(calls[0].Time); gap < time.Second {
		t.Errorf("retried %s after the 429, before its Retry-After (1s)", gap)
	}
	if n := len(fs.Messages(slacktest.DefaultOpsChannelID)); n != 1 {
		t.Errorf("%d messages posted, want 1", n)
	}
}

func TestWebAPIRateLimitHoldsTheMethodsNextCalls(t *testing.T) {
	fs := newTestFake(t, slacktest.Options{})
	sl := newLayered(t, fs, SlackOptions{Attempts: 1})
	ctx := testContext(t)

	fs.RateLimitNext("users.info", 1, time.Second)
	_, err := sl.api.GetUserInfoContext(ctx, slacktest.DefaultAliceID)
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) {
		t.Fatalf("one attempt answered 429: %v, want a *slack.RateLimitedError", err)
	}
	if _, err := sl.api.GetUserInfoContext(ctx, slacktest.DefaultAliceID); err != nil {
		t.Fatalf("the next call: %v", err)
	}
	calls := fs.Calls("users.info")
	if len(calls) != 2 {
		t.Fatalf("calls = %+v", calls)
	}
	if gap := calls[1].Time.Sub(calls[0].Time); gap < time.Second {
		t.Errorf("the next users.info went %s after a 429 with Retry-After 1s", gap)
	}
}

func TestWebAPIRetriesServerErrorsBoundedly(t *testing.T) {
	fs := newTestFake(t, slacktest.Options{})
	sl := newLayered(t, fs, SlackOptions{Attempts: 4})
	ctx := testContext(t)

	fs.ServerErrorNext("chat.postMessage", 2, http.StatusServiceUnavailable)
	if _, _, err := sl.api.PostMessageContext(ctx, slacktest.DefaultOpsChannelID, slack.MsgOptionText("a", false)); err != nil {
		t.Fatalf("two 503s then ok: %v", err)
	}
	if n := len(fs.Calls("chat.postMessage")); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}

	fs.ServerErrorNext("chat.postMessage", 10, http.StatusInternalServerError)
	_, _, err := sl.api.PostMessageContext(ctx, slacktest.DefaultOpsChannelID, slack.MsgOptionText("b", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != http.StatusInternalServerError {
		t.Fatalf("500s every time: %v, want slack.StatusCodeError 500", err)
	}
	if !strings.Contains(err.Error(), "500") {
		t.Errorf("the error does not say what Slack answered: %v", err)
	}
	if n := len(fs.Calls("chat.postMessage")); n != 3+4 {
		t.Errorf("%d calls, want 3 then 4 attempts", n)
	}
	if n := len(fs.Messages(slacktest.DefaultOpsChannelID)); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

func TestWebAPIPacesPostsPerChannelInBoundedQueues(t *testing.T) {
	const pace = 10 * time.Millisecond
	fs := newTestFake(t, slacktest.Options{RateLimits: map[string]slacktest.RateLimit{
		"chat.postMessage": {Requests: 1, Window: pace, PerChannel: true},
	}})
	sl := newLayered(t, fs, SlackOptions{PostInterval: pace, PostQueue: 4})
	ctx := testContext(t)

	channels := map[string]int{slacktest.DefaultOpsChannelID: 40, slacktest.DefaultAlertsChannelID: 10}
	var (
		wg     sync.WaitGroup
		failed atomic.Int32
	)
	for ch, n := range channels {
		for i := range n {
			wg.Go(func() {
				if _, _, err := sl.api.PostMessageContext(ctx, ch, slack.MsgOptionText(fmt.Sprint("post ", i), false)); err != nil {
					t.Errorf("post %d to %s: %v", i, ch, err)
					failed.Add(1)
				}
			})
		}
	}
	wg.Wait()
	for _, c := range fs.Calls("chat.postMessage") {
		if c.Status != http.StatusOK {
			t.Errorf("Slack answered %d %s: the posts were not paced", c.Status, c.Error)
		}
	}
	for ch, n := range channels {
		if got := len(fs.Messages(ch)); got != n {
			t.Errorf("%s: %d messages, want %d", ch, got, n)
		}
		var last time.Time
		for _, c := range fs.Calls("chat.postMessage") {
			if c.Args.Get("channel") != ch || c.Status != http.StatusOK {
				continue
			}
			if !last.IsZero() && c.Time.Sub(last) < pace {
				t.Errorf("%s: two posts %s apart, want at least %s", ch, c.Time.Sub(last), pace)
			}
			last = c.Time
		}
	}
	if peak := sl.web.peakQueued(); peak > 4*len(channels) {
		t.Errorf("%d posts queued at once, want at most %d (4 per channel)", peak, 4*len(channels))
	}
}

func TestWebAPIQueueWaitEndsWithTheContext(t *testing.T) {
	fs := newTestFake(t, slacktest.Options{})
	sl := newLayered(t, fs, SlackOptions{PostInterval: time.Hour, PostQueue: 1})
	ctx := testContext(t)
	if _, _, err := sl.api.PostMessageContext(ctx, slacktest.DefaultOpsChannelID, slack.MsgOptionText("first", false)); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, _, err := sl.api.PostMessageContext(short, slacktest.DefaultOpsChannelID, slack.MsgOptionText("second", false))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for its turn") {
		t.Fatalf("a post whose deadline ends in the queue: %v", err)
	}
	if n := len(fs.Calls("chat.postMessage")); n != 1 {
		t.Errorf("%d calls, want 1 (the second post never left the queue)", n)
	}
	// Another channel has its own queue.
	if _, _, err := sl.api.PostMessageContext(ctx, slacktest.DefaultAlertsChannelID, slack.MsgOptionText("elsewhere", false)); err != nil {
		t.Errorf("a post to another channel: %v", err)
	}
}

func TestWebAPIResponseURLWaitsOutRetryAfter(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	fs := newTestFake(t, slacktest.Options{})
	sl := newLayered(t, fs, SlackOptions{})
	err := slack.PostWebhookCustomHTTPContext(testContext(t), srv.URL+"/response", sl.httpClient,
		&slack.WebhookMessage{Text: "done", ResponseType: slack.ResponseTypeEphemeral})
	if err != nil || calls.Load() != 2 {
		t.Errorf("response_url answered 429 once: %v after %d calls, want nil after 2", err, calls.Load())
	}
}
