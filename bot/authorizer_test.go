package bot

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot/bot/slacktest"
)

const (
	testGroup = "S0DECIDE1"
	testCarol = "U00000C01"
)

func groupFake(t *testing.T) *slacktest.Server {
	fs := slacktest.New(slacktest.Options{
		Users:      []slacktest.User{{ID: testCarol, Name: "carol"}},
		UserGroups: []slacktest.UserGroup{{ID: testGroup, Handle: "deciders", Name: "Deciders", Users: []string{testCarol}}},
	})
	t.Cleanup(fs.Close)
	return fs
}

// A group list that cannot be refreshed is used for a while, then no
// more: its members are refused (fail closed).
func TestDecidersStaleListHasAMaxAge(t *testing.T) {
	fs := groupFake(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	var now atomic.Pointer[time.Time]
	now.Store(&t0)
	clock := func() time.Time { return *now.Load() }
	a := newAuthorizer(Deciders{Groups: []string{testGroup}}, fs.NewClient(), time.Minute, clock, zap.NewNop())

	if ok, err := a.allowed(ctx, testCarol); !ok || err != nil {
		t.Fatalf("fresh: %v, %v", ok, err)
	}
	for _, tt := range []struct {
		after time.Duration
		want  bool
	}{
		{2 * time.Minute, true},   // stale, refresh fails: the last list
		{9 * time.Minute, true},   // still within 10× the TTL
		{11 * time.Minute, false}, // too old: refused
	} {
		at := t0.Add(tt.after)
		now.Store(&at)
		fs.FailNext("usergroups.users.list", "internal_error", 1)
		ok, err := a.allowed(ctx, testCarol)
		if ok != tt.want {
			t.Errorf("after %s with a failing refresh: allowed %v (%v), want %v", tt.after, ok, err, tt.want)
		}
		if !tt.want && err == nil {
			t.Errorf("after %s: refused without saying why", tt.after)
		}
	}
	// Slack answers again: allowed again.
	if ok, err := a.allowed(ctx, testCarol); !ok || err != nil {
		t.Errorf("after a successful refresh: %v, %v", ok, err)
	}
}

// gatedTransport holds usergroups.users.list calls until release is closed.
type gatedTransport struct {
	calls   atomic.Int32
	arrived chan struct{}
	release chan struct{}
}

func (g *gatedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/usergroups.users.list") {
		g.calls.Add(1)
		g.arrived <- struct{}{}
		<-g.release
	}
	return http.DefaultTransport.RoundTrip(r)
}

// Parallel clicks make one refresh of a group, not one each.
func TestDecidersRefreshIsSingleFlight(t *testing.T) {
	fs := groupFake(t)
	gt := &gatedTransport{arrived: make(chan struct{}, 16), release: make(chan struct{})}
	api := slack.New(fs.Options().BotToken, slack.OptionAPIURL(fs.APIURL()), slack.OptionHTTPClient(&http.Client{Transport: gt}))
	a := newAuthorizer(Deciders{Groups: []string{testGroup}}, api, time.Minute, time.Now, zap.NewNop())
	const n = 8
	joined := make(chan struct{}, n)
	a.joined = func(string) { joined <- struct{}{} }

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	results := make([]bool, n)
	for i := range n {
		wg.Go(func() { results[i], _ = a.allowed(ctx, testCarol) })
	}
	select {
	case <-gt.arrived:
	case <-ctx.Done():
		t.Fatal("no refresh")
	}
	for range n - 1 {
		select {
		case <-joined:
		case <-ctx.Done():
			t.Fatalf("the other clicks did not wait for the refresh in flight (%d calls)", gt.calls.Load())
		}
	}
	close(gt.release)
	wg.Wait()
	if c := gt.calls.Load(); c != 1 {
		t.Errorf("%d usergroups.users.list calls, want 1", c)
	}
	for i, ok := range results {
		if !ok {
			t.Errorf("click %d refused", i)
		}
	}
}
