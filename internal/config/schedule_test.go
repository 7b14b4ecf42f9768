package config

import (
	"strings"
	"testing"
	"time"
)

const botBlock = `
bot:
  slack: {devChannel: C0DEV, opsChannel: C0OPS, deciders: {users: [U1A]}}
`

func TestScheduleDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal + botBlock + "  schedule: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Bot.Schedule
	if !s.On() || s.Cron != "30 9 * * 1-5" || s.Timezone != "Europe/London" || s.Environment != "prod" ||
		s.Channel != "C0OPS" || s.Mention != "" || s.CatchUp == nil || time.Duration(*s.CatchUp) != 5*time.Minute {
		t.Errorf("defaults = %+v", s)
	}
	le := s.LeaderElection
	if le.LeaseName != "opsbot-scheduler" || time.Duration(le.LeaseDuration) != 15*time.Second || le.Namespace != "" {
		t.Errorf("leader election defaults = %+v", le)
	}
	if !le.On(true) || le.On(false) {
		t.Error("leader election should default to on in a cluster only")
	}
	if s.MentionMarkup() != "" {
		t.Errorf("MentionMarkup() = %q, want none", s.MentionMarkup())
	}
	if got := s.Config(); got.Schedule != s.Cron || got.Timezone != s.Timezone || got.LeaderElection.LeaseName != le.LeaseName {
		t.Errorf("Config() = %+v", got)
	}

	cfg, err = Parse([]byte(minimal + botBlock))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Bot.Schedule.On() {
		t.Error("no schedule block: the schedule should be off")
	}
}

func TestScheduleExplicit(t *testing.T) {
	cfg, err := Parse([]byte(`
defaultEnvironment: prod
environments:
  prod: {namespaces: [shop]}
  dev: {namespaces: [shop-dev]}
bot:
  slack: {devChannel: C0DEV, deciders: {users: [U1A]}}
  schedule:
    cron: "0 8 * * *"
    timezone: Europe/Paris
    catchUp: 0s
    environment: dev
    channel: C0CHECKS
    mention: S0ROTA
    leaderElection: {enabled: true, namespace: opsbot, leaseName: opsbot-lease, leaseDuration: 30s}
`))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Bot.Schedule
	if s.Cron != "0 8 * * *" || s.Timezone != "Europe/Paris" || *s.CatchUp != 0 || s.Environment != "dev" || s.Channel != "C0CHECKS" {
		t.Errorf("schedule = %+v", s)
	}
	if s.MentionMarkup() != "<!subteam^S0ROTA>" {
		t.Errorf("MentionMarkup() = %q", s.MentionMarkup())
	}
	le := s.LeaderElection
	if !le.On(false) || le.Namespace != "opsbot" || le.LeaseName != "opsbot-lease" || time.Duration(le.LeaseDuration) != 30*time.Second ||
		time.Duration(le.RenewDeadline) != 10*time.Second {
		t.Errorf("leader election = %+v", le)
	}
	s.Mention = "U0ALICE"
	if s.MentionMarkup() != "<@U0ALICE>" {
		t.Errorf("MentionMarkup() = %q", s.MentionMarkup())
	}

	// Disabled: no channel needed.
	cfg, err = Parse([]byte(minimal + `
bot:
  slack: {devChannel: C0DEV, deciders: {users: [U1A]}}
  schedule: {enabled: false}
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Bot.Schedule.On() {
		t.Error("enabled: false should turn the schedule off")
	}
}

func TestScheduleErrorsNameTheField(t *testing.T) {
	noOps := "\nbot:\n  slack: {devChannel: C0DEV, deciders: {users: [U1A]}}\n"
	tests := []struct{ yaml, want string }{
		{noOps + "  schedule: {}\n", "bot.schedule.channel: required (or set bot.slack.opsChannel)"},
		{botBlock + "  schedule: {channel: \"#ops\"}\n", `bot.schedule.channel: want a channel id like C0123ABCD (not a #name), got "#ops"`},
		{botBlock + "  schedule: {cron: \"30 25 * * *\"}\n", "bot.schedule.cron: "},
		{botBlock + "  schedule: {cron: \"every day\"}\n", "bot.schedule.cron: "},
		{botBlock + "  schedule: {timezone: Mars/Olympus}\n", `bot.schedule.timezone: unknown time zone "Mars/Olympus"`},
		{botBlock + "  schedule: {environment: staging}\n", `bot.schedule.environment: "staging" is not one of the environments (have: prod)`},
		{botBlock + "  schedule: {mention: \"@ops\"}\n", `bot.schedule.mention: want a user group id like S0123ABCD or a user id like U0123ABCD (not a @handle), got "@ops"`},
		{botBlock + "  schedule: {mention: \"<!channel>\"}\n", `bot.schedule.mention: want a user group id`},
		{botBlock + "  schedule: {leaderElection: {leaseName: Opsbot_Lease}}\n", "bot.schedule.leaderElection.leaseName: "},
		{botBlock + "  schedule: {leaderElection: {leaseDuration: 5s}}\n", "bot.schedule.leaderElection.leaseDuration: must be more than renewDeadline"},
		{botBlock + "  schedule: {crom: \"0 9 * * *\"}\n", `unknown key "crom"`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(minimal + tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s:\n got %v\nwant %q", tt.yaml, err, tt.want)
		}
	}
}
