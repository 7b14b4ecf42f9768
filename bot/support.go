package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/opsbot/opsbot/internal/wait"
	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/opsbot/opsbot"
	"github.com/opsbot/opsbot/templates"
)

// authorizer decides who may record decisions: configured users, and
// members of configured user groups (usergroups.users.list, cached for
// ttl). It fails closed: a group that cannot be read admits nobody new.
// While a refresh fails, the last list is used for at most maxStale after
// it was read; then the group admits nobody until a refresh succeeds (a
// removed decider does not keep their rights because Slack is down). One
// refresh per group runs at a time, whatever the number of clicks waiting
// for it (usergroups.users.list is Tier 2).
type authorizer struct {
	users    map[string]bool
	groups   []string
	api      *slack.Client
	ttl      time.Duration
	maxStale time.Duration
	now      func() time.Time
	log      *zap.Logger
	// joined, if set, is called when a caller waits for a refresh started
	// by another (tests).
	joined func(group string)

	mu       sync.Mutex
	cache    map[string]groupMembers
	inflight map[string]*groupRefresh
}

type groupMembers struct {
	users   map[string]bool
	fetched time.Time
}

// groupRefresh is one usergroups.users.list call and its waiters.
type groupRefresh struct {
	done  chan struct{}
	users map[string]bool
	err   error
}

// staleFactor times the TTL is how long a group list may be used while it
// cannot be refreshed.
const staleFactor = 10

// groupRefreshTimeout bounds a refresh, which runs on its own: a waiter
// that gives up does not cancel it for the others.
const groupRefreshTimeout = 10 * time.Second

func newAuthorizer(d Deciders, api *slack.Client, ttl time.Duration, now func() time.Time, log *zap.Logger) *authorizer {
	a := &authorizer{users: map[string]bool{}, groups: d.Groups, api: api, ttl: ttl, maxStale: staleFactor * ttl,
		now: now, log: log, cache: map[string]groupMembers{}, inflight: map[string]*groupRefresh{}}
	for _, u := range d.Users {
		a.users[u] = true
	}
	return a
}

// allowed reports whether user may decide. An error means a group could
// not be read and the user is not otherwise allowed.
func (a *authorizer) allowed(ctx context.Context, user string) (bool, error) {
	if a.users[user] {
		return true, nil
	}
	var errs []error
	for _, g := range a.groups {
		m, err := a.members(ctx, g)
		if err != nil {
			errs = append(errs, err)
		}
		if m[user] {
			return true, nil
		}
	}
	return false, errors.Join(errs...)
}

func (a *authorizer) members(ctx context.Context, group string) (map[string]bool, error) {
	a.mu.Lock()
	c, ok := a.cache[group]
	if ok && a.now().Sub(c.fetched) < a.ttl {
		a.mu.Unlock()
		return c.users, nil
	}
	f, running := a.inflight[group]
	if !running {
		f = &groupRefresh{done: make(chan struct{})}
		a.inflight[group] = f
		go a.refresh(context.WithoutCancel(ctx), group, f)
	}
	a.mu.Unlock()
	if running && a.joined != nil {
		a.joined(group)
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("usergroups.users.list %s: %w", group, context.Cause(ctx))
	}
	if f.err == nil {
		return f.users, nil
	}
	if ok {
		if age := a.now().Sub(c.fetched); age < a.maxStale {
			a.log.Warn("could not refresh a deciders group; using the last list", zap.String("group", group),
				zap.Duration("age", age), zap.Error(f.err))
			return c.users, nil
		}
		a.log.Error("could not refresh a deciders group for too long; its members are refused until it can be read",
			zap.String("group", group), zap.Duration("maxStale", a.maxStale), zap.Error(f.err))
	}
	return nil, f.err
}

// refresh reads group's members once for every waiter of f.
func (a *authorizer) refresh(ctx context.Context, group string, f *groupRefresh) {
	ctx, cancel := context.WithTimeout(ctx, groupRefreshTimeout)
	defer cancel()
	list, err := a.api.GetUserGroupMembersContext(ctx, group)
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.inflight, group)
	if err != nil {
		f.err = fmt.Errorf("usergroups.users.list %s: %w", group, err)
	} else {
		f.users = make(map[string]bool, len(list))
		for _, u := range list {
			f.users[u] = true
		}
		a.cache[group] = groupMembers{users: f.users, fetched: a.now()}
	}
	close(f.done)
}

// authorize returns a userError refusing the request unless its user may
// decide; what is what they tried ("record decisions"). The refusal is
// recorded in a worker (refuseLater): a modal's validation, which has
// Slack's 3 s, does not wait for the store.
func (b *Bot) authorize(ctx context.Context, r *request, what string) error {
	ok, err := b.auth.allowed(ctx, r.userID)
	if ok {
		return nil
	}
	if err != nil {
		b.log.Warn("could not check who may decide; refusing", append(r.fields(), zap.Error(err))...)
	}
	b.refuseLater(r, opsbot.ReasonNotDecider)
	return userErr(say(b.texts(), templates.OpsRefused, templates.Refused{Action: what}))
}

// names shows users as "@name": names seen in payloads, else users.info.
// opsbot never mentions users (the ops group is its one mention).
type names struct {
	api *slack.Client
	mu  sync.Mutex
	m   map[string]string
}

func newNames(api *slack.Client) *names { return &names{api: api, m: map[string]string{}} }

func (n *names) remember(id, name string) {
	if id == "" || name == "" {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.m) > 10000 {
		clear(n.m)
	}
	n.m[id] = name
}

// display returns "@name", escaped.
func (n *names) display(ctx context.Context, id string) string {
	n.mu.Lock()
	name, ok := n.m[id]
	n.mu.Unlock()
	if !ok && n.api != nil && validSlackID(id, "U", "W") {
		if u, err := n.api.GetUserInfoContext(ctx, id); err == nil {
			name = u.Name
			if u.Profile.DisplayName != "" {
				name = u.Profile.DisplayName
			}
			n.remember(id, name)
		}
	}
	if name == "" {
		name = id
	}
	return Escape("@" + name)
}

// dedupe remembers recent keys (a bounded FIFO).
type dedupe struct {
	mu    sync.Mutex
	max   int
	order []string
	set   map[string]bool
}

func newDedupe(max int) *dedupe { return &dedupe{max: max, set: map[string]bool{}} }

// check records key and reports whether it was seen before.
func (d *dedupe) check(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.set[key] {
		return true
	}
	d.set[key] = true
	d.order = append(d.order, key)
	if len(d.order) > d.max {
		delete(d.set, d.order[0])
		d.order = d.order[1:]
	}
	return false
}

// spacer spaces calls to a rate-limited method across the whole bot: each
// caller waits for its slot, at least gap after the previous one.
type spacer struct {
	gap  time.Duration
	mu   sync.Mutex
	next time.Time
}

func (s *spacer) wait(ctx context.Context) error {
	s.mu.Lock()
	now := time.Now()
	at := s.next
	if at.Before(now) {
		at = now
	}
	s.next = at.Add(s.gap)
	s.mu.Unlock()
	return wait.Sleep(ctx, time.Until(at))
}

// permalinks caches chat.getPermalink answers.
type permalinks struct {
	mu sync.Mutex
	m  map[string]string
}

func newPermalinks() *permalinks { return &permalinks{m: map[string]string{}} }
