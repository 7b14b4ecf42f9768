package config

import (
	"strings"
	"testing"
	"time"
)

func TestHandoverDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal + botBlock + "  handover: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.Bot.Handover
	if h.Scheduled() || h.Timezone != "Europe/London" || h.Channel != "C0OPS" || h.Mention != "" || h.Shift != 0 ||
		h.NearEscalation != 1 || h.CatchUp == nil || time.Duration(*h.CatchUp) != 5*time.Minute {
		t.Errorf("defaults = %+v", h)
	}
	cfg, err = Parse([]byte(minimal + botBlock))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Bot.Handover.Scheduled() {
		t.Error("no handover block: nothing should be scheduled")
	}
}

func TestHandoverExplicit(t *testing.T) {
	cfg, err := Parse([]byte(minimal + botBlock + `  handover:
    cron: "0 9 * * MON-FRI"
    timezone: Europe/Paris
    channel: C0ROTA
    mention: S0ROTA
    shift: 24h
    nearEscalation: 2
`))
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.Bot.Handover
	if !h.Scheduled() || h.Cron != "0 9 * * MON-FRI" || h.Channel != "C0ROTA" || h.Mention != "S0ROTA" ||
		time.Duration(h.Shift) != 24*time.Hour || h.NearEscalation != 2 {
		t.Errorf("handover = %+v", h)
	}
	if c := h.Config(); c.Schedule != h.Cron || c.Timezone != "Europe/Paris" {
		t.Errorf("Config() = %+v", c)
	}
}

func TestHandoverErrorsNameTheField(t *testing.T) {
	noOps := "\nbot:\n  slack: {devChannel: C0DEV, deciders: {users: [U1A]}}\n"
	tests := []struct{ yaml, want string }{
		{noOps + "  handover: {}\n", "bot.handover.channel: required (or set bot.slack.opsChannel)"},
		{botBlock + "  handover: {channel: \"#ops\"}\n", `bot.handover.channel: want a channel id like C0123ABCD (not a #name), got "#ops"`},
		{botBlock + "  handover: {cron: \"0 25 * * *\"}\n", "bot.handover.cron: "},
		{botBlock + "  handover: {timezone: Mars/Olympus}\n", `bot.handover.timezone: unknown time zone "Mars/Olympus"`},
		{botBlock + "  handover: {mention: \"@ops\"}\n", `bot.handover.mention: want a user group id like S0123ABCD or a user id like U0123ABCD (not a @handle), got "@ops"`},
		{botBlock + "  handover: {mention: \"<!subteam^S123>\"}\n", `bot.handover.mention: want a user group id`},
		{botBlock + "  handover: {shift: -1h}\n", "bot.handover.shift: "},
		{botBlock + "  handover: {nearEscalation: -1}\n", "bot.handover.nearEscalation: must be at least 1, got -1"},
		{botBlock + "  handover: {catchUp: -1m}\n", "bot.handover.catchUp: "},
		{botBlock + "  handover: {corn: \"0 9 * * *\"}\n", `unknown key "corn"`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(minimal + tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s:\n got %v\nwant %q", tt.yaml, err, tt.want)
		}
	}
}
