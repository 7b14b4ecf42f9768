package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks"
	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/triage"
)

// schedNopStore satisfies triage.Store, checklist.RunStore, RefusalLog and
// CommandLog; New never calls it.
type schedNopStore struct {
	triage.Store
	checklist.RunStore
	RefusalLog
	CommandLog
}

func schedTestBot(t *testing.T) *Bot {
	t.Helper()
	b, err := New(schedTestOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// schedTestOptions are a bot's options with a Slack client that is never
// called and stores that are never used.
func schedTestOptions(t *testing.T) Options {
	t.Helper()
	sl, err := NewSlack(SlackOptions{AppToken: "xapp-1", BotToken: "xoxb-1"})
	if err != nil {
		t.Fatal(err)
	}
	threads, err := NewThreads(sl, ThreadsOptions{DevChannel: "C0DEV"})
	if err != nil {
		t.Fatal(err)
	}
	tri, err := triage.NewService(triage.ServiceOptions{Store: schedNopStore{}, Threads: threads})
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		Slack: sl, DevChannel: "C0DEV", OpsChannel: "C0OPS",
		Deciders: Deciders{Users: []string{"U0ALICE"}}, Triage: tri, Runs: schedNopStore{},
		Refusals: schedNopStore{}, Commands: schedNopStore{},
		Checklist: func(context.Context, string) (Checklist, error) {
			return Checklist{Checks: []checks.Check{}}, nil
		},
		Environments: []string{"prod", "dev"}, DefaultEnvironment: "prod",
	}
}

func TestScheduledChecklistChecksItsSettings(t *testing.T) {
	b := schedTestBot(t)
	runs := schedule.NewMemoryClaimer()
	if _, err := b.ScheduledChecklist(Scheduled{Runs: memRunLog{runs}}); err != nil {
		t.Fatalf("the defaults (prod, the ops channel, no mention) are refused: %v", err)
	}
	for _, tt := range []struct {
		s    Scheduled
		want string
	}{
		{Scheduled{Runs: memRunLog{runs}, Environment: "staging"}, `schedule.environment: "staging" is not one of the environments`},
		{Scheduled{Runs: memRunLog{runs}, Channel: "#ops"}, `schedule.channel: want a channel id`},
		{Scheduled{Runs: memRunLog{runs}, Mention: "<!channel>"}, `schedule.mention: want a user group id (S...) or a user id (U...), got "<!channel>"`},
		{Scheduled{Runs: memRunLog{runs}, Mention: "@ops"}, `schedule.mention`},
		{Scheduled{}, "schedule: a run log is required"},
	} {
		if _, err := b.ScheduledChecklist(tt.s); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want %q", tt.s, err, tt.want)
		}
	}
}

// memRunLog is a checklist.RunLog in memory that never ran.
type memRunLog struct{ *schedule.MemoryClaimer }

func (memRunLog) LastClaim(context.Context, string) (string, time.Time, error) {
	return "", time.Time{}, nil
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
