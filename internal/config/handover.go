package config

import (
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/schedule"
)

// DefaultHandoverNear is bot.handover.nearEscalation's default.
const DefaultHandoverNear = 1

// Handover is the rotation's handover (bot.handover): with a cron, `opsbot
// serve` posts the handover at each occurrence (once across the replicas)
// in a channel, mentioning who comes on shift. `/ops handover` and the App
// Home tab work without the block.
type Handover struct {
	// Cron, optional, is when the handover is posted: five fields or a
	// macro, in Timezone. Without it nothing is scheduled.
	Cron string `yaml:"cron"`
	// Timezone is the IANA zone Cron is read in. Default Europe/London.
	Timezone string `yaml:"timezone"`
	// CatchUp is how late an occurrence may still be posted after a
	// restart (see package schedule). Default 5m; 0 turns it off.
	CatchUp *model.Duration `yaml:"catchUp"`
	// Channel is the channel id (C...) the handover is posted in. Default
	// bot.slack.opsChannel; one of the two is required.
	Channel string `yaml:"channel"`
	// Mention, optional, is who comes on shift: a user group id (S...) or
	// a user id (U..., W...). opsbot builds the mention from it.
	Mention string `yaml:"mention"`
	// Shift, optional, is how long a shift lasts ("24h"): what the
	// handover calls "this shift" (silences ending in it). Default: until
	// Cron's next occurrence, else 24h.
	Shift model.Duration `yaml:"shift"`
	// NearEscalation is how many sightings short of the recurrence
	// threshold an Intermittent anomaly is listed as close to escalation.
	// Default 1.
	NearEscalation int `yaml:"nearEscalation"`
}

// Scheduled reports whether the handover is posted on a schedule.
func (h *Handover) Scheduled() bool { return h != nil && h.Cron != "" }

// Config is the handover's schedule as package schedule takes it.
func (h Handover) Config() schedule.Config {
	return schedule.Config{Schedule: h.Cron, Timezone: h.Timezone, CatchUp: h.CatchUp}
}

// setDefaultsAndValidate defaults and checks the block (nil: none).
func (h *Handover) setDefaultsAndValidate(c *Config, p string, fe *fieldErrors) {
	if h == nil {
		return
	}
	if h.Timezone == "" {
		h.Timezone = DefaultScheduleTimezone
	}
	if h.CatchUp == nil {
		d := model.Duration(schedule.DefaultCatchUp)
		h.CatchUp = &d
	}
	if h.Channel == "" && c.Bot != nil {
		h.Channel = c.Bot.Slack.OpsChannel
	}
	if h.NearEscalation == 0 {
		h.NearEscalation = DefaultHandoverNear
	}
	h.Cron = strings.TrimSpace(h.Cron)
	if loc, err := time.LoadLocation(h.Timezone); err != nil {
		fe.add(p+".timezone", "unknown time zone %q (want an IANA name like Europe/London)", h.Timezone)
	} else if h.Cron != "" {
		if _, err := schedule.Parse(h.Cron, loc); err != nil {
			fe.add(p+".cron", "%v", err)
		}
	}
	if *h.CatchUp < 0 {
		fe.add(p+".catchUp", "must not be negative, got %s", *h.CatchUp)
	}
	switch {
	case h.Channel == "":
		fe.add(p+".channel", "required (or set bot.slack.opsChannel): the channel id (C...) the handover is posted in")
	case !channelID.MatchString(h.Channel):
		fe.add(p+".channel", "want a channel id like C0123ABCD (not a #name), got %q", h.Channel)
	}
	if h.Mention != "" && !usergroupID.MatchString(h.Mention) && !userID.MatchString(h.Mention) {
		fe.add(p+".mention", "want a user group id like S0123ABCD or a user id like U0123ABCD (not a @handle), got %q", h.Mention)
	}
	if h.Shift < 0 {
		fe.add(p+".shift", "must not be negative, got %s", h.Shift)
	}
	if h.NearEscalation < 0 {
		fe.add(p+".nearEscalation", "must be at least 1, got %d", h.NearEscalation)
	}
}
