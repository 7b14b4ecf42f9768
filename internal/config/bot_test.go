package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBotDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal + `
bot:
  slack:
    devChannel: C0DEV
    deciders: {users: [U0ALICE]}
`))
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Bot
	if b.Slack.APIURL != DefaultSlackAPIURL || b.Store.SQLite == nil || b.Store.SQLite.Path != "opsbot.db" ||
		b.Store.Postgres != nil || b.Health.Listen != ":8080" ||
		b.Recurrence.Threshold != 3 || time.Duration(b.Recurrence.Window) != 7*24*time.Hour ||
		time.Duration(b.Silences.MaxLength) != 90*24*time.Hour {
		t.Errorf("defaults = %+v", b)
	}
	cfg, err = Parse([]byte(minimal + `
bot:
  slack: {devChannel: C0DEV, deciders: {groups: [S0OPS]}}
  store: {postgres: {}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Bot.Store.Postgres.DSNEnv != "OPSBOT_POSTGRES_DSN" || cfg.Bot.Store.SQLite != nil {
		t.Errorf("store = %+v", cfg.Bot.Store)
	}
	if s := b.Slack; len(s.AllowedChannels) != 0 || s.AllowDirectMessages || s.EnterpriseID != "" {
		t.Errorf("authorization defaults = %v, %v, %q; want any channel, no direct messages, no enterprise",
			s.AllowedChannels, s.AllowDirectMessages, s.EnterpriseID)
	}
	cfg, err = Parse([]byte(minimal + `
bot:
  slack:
    devChannel: C0DEV
    deciders: {users: [U0ALICE]}
    allowedChannels: [C0OPS, G0PRIVATE]
    allowDirectMessages: true
    enterpriseID: E0GRID
`))
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Bot.Slack; !slices.Equal(s.AllowedChannels, []string{"C0OPS", "G0PRIVATE"}) || !s.AllowDirectMessages || s.EnterpriseID != "E0GRID" {
		t.Errorf("authorization = %v, %v, %q", s.AllowedChannels, s.AllowDirectMessages, s.EnterpriseID)
	}
	if cfg, _ := Parse([]byte(minimal)); cfg.Bot != nil {
		t.Error("no bot block should leave Bot nil")
	}
}

func TestBotErrorsNameTheField(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{`bot: {slack: {deciders: {users: [U1A]}}}`, "bot.slack.devChannel: required"},
		{`bot: {slack: {devChannel: "#dev", deciders: {users: [U1A]}}}`, `bot.slack.devChannel: want a channel id like C0123ABCD (not a #name), got "#dev"`},
		{`bot: {slack: {devChannel: C0DEV}}`, "bot.slack.deciders: at least one user or group is required"},
		{`bot: {slack: {devChannel: C0DEV, deciders: {users: [alice]}}}`, `bot.slack.deciders.users[0]: want a user id`},
		{`bot: {slack: {devChannel: C0DEV, opsGroup: "@ops", deciders: {users: [U1A]}}}`, `bot.slack.opsGroup: want a user group id`},
		{`bot: {slack: {apiURL: "https://slack.com/api", devChannel: C0DEV, deciders: {users: [U1A]}}}`, "bot.slack.apiURL: must end with a slash"},
		{`bot: {slack: {devChannel: C0DEV, deciders: {users: [U1A]}}, store: {sqlite: {}, postgres: {}}}`, "bot.store: choose one of sqlite and postgres"},
		{`bot: {slack: {devChannel: C0DEV, deciders: {users: [U1A]}}, recurrence: {threshold: -1}}`, "bot.recurrence.threshold: must be at least 1"},
		{`bot: {slack: {devChannel: C0DEV, deciders: {users: [U1A]}}, health: {listen: "8080"}}`, `bot.health.listen: want host:port`},
		{`bot: {slack: {devChannel: C0DEV, deciders: {users: [U1A]}}, silences: {maxLength: 30m}}`, `bot.silences.maxLength: must be at least 1h, got 30m`},
		{`bot: {slack: {devChannel: C0DEV, deciders: {users: [U1A]}}, silences: {maxLength: -1d}}`, `silences`},
		{`bot: {slack: {devChannel: C0DEV, opsChannel: C0OPS, deciders: {users: [U1A]}}, noise: {weekly: {}}}`,
			`bot.noise.weekly.cron: required: when to post the report, for example "0 9 * * MON"`},
		{`bot: {slack: {devChannel: C0DEV, opsChannel: C0OPS, deciders: {users: [U1A]}}, noise: {weekly: {cron: "0 9 * * MONDAY"}}}`,
			`bot.noise.weekly.cron: `},
		{`bot: {slack: {devChannel: C0DEV, deciders: {users: [U1A]}}, noise: {weekly: {cron: "0 9 * * MON"}}}`,
			`bot.noise.weekly.channel: required (or set bot.slack.opsChannel)`},
		{`bot: {slack: {devChannel: C0DEV, deciders: {users: [U1A]}}, noise: {weekly: {cron: "0 9 * * MON", channel: "#ops"}}}`,
			`bot.noise.weekly.channel: want a channel id like C0123ABCD (not a #name), got "#ops"`},
		{`bot: {slack: {devChannel: C0DEV, opsChannel: C0OPS, deciders: {users: [U1A]}}, noise: {weekly: {cron: "0 9 * * MON", days: 91}}}`,
			`bot.noise.weekly.days: the period must be 1 to 90 days, got 91`},
		{`bot: {slack: {devChannel: C0DEV, opsChannel: C0OPS, deciders: {users: [U1A]}}, noise: {weekly: {cron: "0 9 * * MON", timezone: Mars/Olympus}}}`,
			`bot.noise.weekly.timezone: unknown time zone "Mars/Olympus"`},
		{`bot: {slack: {devChanel: C0DEV}}`, `unknown key "devChanel"`},
		{`bot: {slack: {devChannel: C0DEV, deciders: {users: [U1A]}, allowedChannels: [C0OPS, "#random"]}}`,
			`bot.slack.allowedChannels[1]: want a channel id like C0123ABCD (not a #name), got "#random"`},
		{`bot: {slack: {devChannel: C0DEV, deciders: {users: [U1A]}, allowedChannels: [c0ops]}}`,
			`bot.slack.allowedChannels[0]: want a channel id like C0123ABCD (not a #name), got "c0ops"`},
		{`bot: {slack: {devChannel: C0DEV, deciders: {users: [U1A]}, allowedChannels: [D0ALICE]}}`,
			`bot.slack.allowedChannels[0]: "D0ALICE" is a direct message, not a channel: set allowDirectMessages instead`},
		{`bot: {slack: {devChannel: C0DEV, deciders: {users: [U1A]}, allowedChannels: [C0OPS, C0OPS]}}`,
			`bot.slack.allowedChannels[1]: C0OPS is listed twice`},
		{`bot: {slack: {devChannel: C0DEV, deciders: {users: [U1A]}, enterpriseID: T0TEAM}}`,
			`bot.slack.enterpriseID: want an Enterprise Grid organization id like E0123ABCD, got "T0TEAM"`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(minimal + tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s:\n got %v\nwant %q", tt.yaml, err, tt.want)
		}
	}
}

// The weekly noise post takes the bot's time zone and ops channel and a
// week by default; without the block there is none.
func TestNoiseWeeklyDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal + `
bot:
  slack: {devChannel: C0DEV, opsChannel: C0OPS, deciders: {users: [U0ALICE]}}
  timezone: Europe/Paris
  noise: {weekly: {cron: "0 9 * * MON"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.Bot.Noise.Weekly
	if w == nil || w.Timezone != "Europe/Paris" || w.Channel != "C0OPS" || w.Days != 7 || w.Cron != "0 9 * * MON" {
		t.Errorf("weekly = %+v", w)
	}
	cfg, err = Parse([]byte(minimal + `
bot:
  slack: {devChannel: C0DEV, deciders: {users: [U0ALICE]}}
`))
	if err != nil || cfg.Bot.Noise.Weekly != nil {
		t.Errorf("without the block: %+v, %v", cfg.Bot.Noise.Weekly, err)
	}
}
