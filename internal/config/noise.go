package config

import (
	"strings"
	"time"

	"github.com/opsbot/opsbot/noise"
	"github.com/opsbot/opsbot/schedule"
)

// Noise is the noise report's block (bot.noise).
type Noise struct {
	// Weekly, if set, posts the noise report on a schedule.
	Weekly *NoiseWeekly `yaml:"weekly"`
}

// NoiseWeekly posts the noise report in a channel at each occurrence of a
// cron schedule, once across the replicas (the store's claims, as the
// scheduled checklist's).
type NoiseWeekly struct {
	// Cron is when: five fields or a macro, as bot.schedule.cron.
	// Required.
	Cron string `yaml:"cron"`
	// Timezone is the IANA zone Cron is read in. Default bot.timezone.
	Timezone string `yaml:"timezone"`
	// Channel is the channel id (C...) the report goes to. Default
	// bot.slack.opsChannel; one of the two is required.
	Channel string `yaml:"channel"`
	// Days is the report's period, in UTC days ending at the occurrence.
	// Default 7.
	Days int `yaml:"days"`
}

// Config is the weekly post's schedule as package schedule takes it
// (catch-up at its default: a replica restarted just after the hour still
// posts it).
func (w NoiseWeekly) Config() schedule.Config {
	return schedule.Config{Schedule: w.Cron, Timezone: w.Timezone}
}

// setDefaultsAndValidate defaults and checks the block, after the bot
// block's own defaults (the time zone, the ops channel).
func (n *Noise) setDefaultsAndValidate(b *Bot, p string, fe *fieldErrors) {
	w := n.Weekly
	if w == nil {
		return
	}
	p += ".weekly"
	if w.Timezone == "" {
		w.Timezone = b.Timezone
	}
	if w.Channel == "" {
		w.Channel = b.Slack.OpsChannel
	}
	if w.Days == 0 {
		w.Days = noise.DefaultDays
	}
	w.Cron = strings.TrimSpace(w.Cron)
	switch loc, err := time.LoadLocation(w.Timezone); {
	case err != nil || w.Timezone == "":
		fe.add(p+".timezone", "unknown time zone %q (want an IANA name like Europe/London)", w.Timezone)
	case w.Cron == "":
		fe.add(p+".cron", `required: when to post the report, for example "0 9 * * MON"`)
	default:
		if _, err := schedule.Parse(w.Cron, loc); err != nil {
			fe.add(p+".cron", "%v", err)
		}
	}
	switch {
	case w.Channel == "":
		fe.add(p+".channel", "required (or set bot.slack.opsChannel): the channel id (C...) the report is posted in")
	case !channelID.MatchString(w.Channel):
		fe.add(p+".channel", "want a channel id like C0123ABCD (not a #name), got %q", w.Channel)
	}
	if err := noise.CheckDays(w.Days); err != nil {
		fe.add(p+".days", "%v", err)
	}
}
