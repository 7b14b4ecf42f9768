package bot

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/triage"
)

// memClaims is a ScheduleStore in memory whose LastClaim answers what the
// test says.
type memClaims struct {
	*schedule.MemoryClaimer
	key string
	at  time.Time
	err error
	got []string // prefixes asked
}

func (c *memClaims) LastClaim(_ context.Context, prefix string) (string, time.Time, error) {
	c.got = append(c.got, prefix)
	return c.key, c.at, c.err
}

// schedNopStore satisfies triage.Store and checklist.RunStore; New never
// calls it.
type schedNopStore struct {
	triage.Store
	checklist.RunStore
}

func schedTestOptions(s *Schedule) Options {
	return Options{
		AppToken: "xapp-1", BotToken: "xoxb-1", DevChannel: "C0DEV", OpsChannel: "C0OPS",
		Deciders: Deciders{Users: []string{"U0ALICE"}}, Store: schedNopStore{},
		Checklist: func(context.Context, string) (Checklist, error) {
			return Checklist{Checks: []checks.Check{}}, nil
		},
		Environments: []string{"prod", "dev"}, DefaultEnvironment: "prod",
		Schedule: s,
	}
}

func TestNewScheduleDefaultsAndErrors(t *testing.T) {
	st := &memClaims{MemoryClaimer: schedule.NewMemoryClaimer()}
	b, err := New(schedTestOptions(&Schedule{Store: st}))
	if err != nil {
		t.Fatal(err)
	}
	sc := b.sched
	if sc.cfg.Environment != "prod" || sc.cfg.Channel != "C0OPS" || sc.mention != "" || sc.loc.String() != "Europe/London" {
		t.Errorf("defaults: %+v, mention %q, zone %v", sc.cfg, sc.mention, sc.loc)
	}
	if _, ok := sc.cfg.Elector.(schedule.AlwaysLeader); !ok {
		t.Errorf("elector = %T, want AlwaysLeader", sc.cfg.Elector)
	}
	if len(sc.actors(context.Background())) != 2 {
		t.Error("want the scheduler and the elector as actors")
	}
	if b, _ := New(schedTestOptions(nil)); b.sched != nil || !b.NextScheduledChecklist(time.Now()).IsZero() {
		t.Error("no Schedule: no scheduler")
	}

	for _, tt := range []struct {
		s    Schedule
		want string
	}{
		{Schedule{Store: st, Environment: "staging"}, `schedule.environment: "staging" is not one of the environments`},
		{Schedule{Store: st, Channel: "#ops"}, `schedule.channel: want a channel id`},
		{Schedule{Store: st, Mention: "<!channel>"}, `schedule.mention: want a user group id (S...) or a user id (U...), got "<!channel>"`},
		{Schedule{Store: st, Mention: "@ops"}, `schedule.mention`},
		{Schedule{}, "schedule: a store is required"},
		{Schedule{Store: st, Config: schedule.Config{Schedule: "61 9 * * *"}}, "schedule.schedule: "},
		{Schedule{Store: st, Config: schedule.Config{Timezone: "Mars/Olympus"}}, "schedule.timezone: "},
	} {
		if _, err := New(schedTestOptions(&tt.s)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want %q", tt.s, err, tt.want)
		}
	}
}

func TestMentionOf(t *testing.T) {
	for id, want := range map[string]string{
		"S0OPS":       "<!subteam^S0OPS>",
		"U0ALICE":     "<@U0ALICE>",
		"W0ALICE":     "<@W0ALICE>",
		"":            "",
		"C0OPS":       "",
		"U0A> <!here": "",
		"s0ops":       "",
	} {
		if got := mentionOf(id); got != want {
			t.Errorf("mentionOf(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestLastChecklist(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	if k := doneKey("prod", at); k != "checklist-done/prod/2026-11-24T09:30Z" {
		t.Errorf("doneKey = %q", k)
	}
	claimedAt := at.Add(3 * time.Minute)
	for _, tt := range []struct {
		name string
		c    memClaims
		want time.Time
		err  bool
	}{
		{"never ran", memClaims{}, time.Time{}, false},
		{"the occurrence's time", memClaims{key: doneKey("prod", at), at: claimedAt}, at, false},
		{"an odd key: when it was claimed", memClaims{key: "checklist-done/prod/yesterday", at: claimedAt}, claimedAt, false},
		{"store error", memClaims{err: errors.New("database is locked")}, time.Time{}, true},
	} {
		got, err := LastChecklist(&tt.c, "prod")(ctx)
		if !got.Equal(tt.want) || (err != nil) != tt.err {
			t.Errorf("%s: %v, %v; want %v (error %v)", tt.name, got, err, tt.want, tt.err)
		}
		if len(tt.c.got) != 1 || tt.c.got[0] != "checklist-done/prod/" {
			t.Errorf("%s: asked for %q", tt.name, tt.c.got)
		}
	}
}
