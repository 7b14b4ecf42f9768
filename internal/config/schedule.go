package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsbot/opsbot/schedule"
)

// Defaults of the bot.schedule block.
const (
	// DefaultScheduleCron is 09:30 on weekdays.
	DefaultScheduleCron = schedule.DefaultSchedule
	// DefaultScheduleTimezone is the ops rotation's time zone.
	DefaultScheduleTimezone = schedule.DefaultTimezone
)

// Schedule is the scheduled checklist (bot.schedule): `opsbot serve` runs
// the checklist of one environment at each occurrence of a cron schedule,
// posts an intro mentioning the person or group on rotation and the report
// in a channel. It is on when the block is present, unless `enabled: false`.
type Schedule struct {
	// Enabled turns the schedule off when false. Default true.
	Enabled *bool `yaml:"enabled"`
	// Cron is when the checklist runs: five fields (minute hour
	// day-of-month month day-of-week) or a macro such as @daily. Default
	// "30 9 * * 1-5" (09:30 on weekdays).
	Cron string `yaml:"cron"`
	// Timezone is the IANA zone Cron is read in. Default Europe/London.
	Timezone string `yaml:"timezone"`
	// CatchUp is how late an occurrence may still run after a failover or
	// a restart (see package schedule). Default 5m; 0 turns it off.
	CatchUp *model.Duration `yaml:"catchUp"`
	// Environment is the environment checked. Default: defaultEnvironment.
	Environment string `yaml:"environment"`
	// Channel is the channel id (C...) the intro and the report go to.
	// Default bot.slack.opsChannel; one of the two is required.
	Channel string `yaml:"channel"`
	// Mention, optional, is who is on rotation: a user group id (S...) or
	// a user id (U...). opsbot builds the mention from it.
	Mention string `yaml:"mention"`
	// LeaderElection elects the replica that runs the schedule with a
	// Kubernetes Lease. Without it, every replica runs a scheduler and
	// the store's once-per-occurrence claims keep a run from happening
	// twice.
	LeaderElection LeaderElection `yaml:"leaderElection"`
}

// LeaderElection is bot.schedule.leaderElection: a coordination.k8s.io
// Lease (deploy/base/role-leader.yaml grants the access).
type LeaderElection struct {
	// Enabled: default on when opsbot runs in a Kubernetes pod
	// ($KUBERNETES_SERVICE_HOST is set), off otherwise.
	Enabled                       *bool `yaml:"enabled"`
	schedule.LeaderElectionConfig `yaml:",inline"`
}

// On reports whether the schedule is configured and enabled.
func (s *Schedule) On() bool { return s != nil && On(s.Enabled, true) }

// On reports whether leader election is used, given whether opsbot runs
// in a cluster.
func (l LeaderElection) On(inCluster bool) bool { return On(l.Enabled, inCluster) }

// Config is the schedule as package schedule takes it.
func (s Schedule) Config() schedule.Config {
	return schedule.Config{Schedule: s.Cron, Timezone: s.Timezone, CatchUp: s.CatchUp, LeaderElection: s.LeaderElection.LeaderElectionConfig}
}

// MentionMarkup is the mrkdwn mention of Mention: "<!subteam^S...>" for a
// user group, "<@U...>" for a user, "" when unset or not an id (validated
// at load time, so never built from anything else).
func (s Schedule) MentionMarkup() string {
	switch {
	case usergroupID.MatchString(s.Mention):
		return "<!subteam^" + s.Mention + ">"
	case userID.MatchString(s.Mention):
		return "<@" + s.Mention + ">"
	}
	return ""
}

// setDefaultsAndValidate defaults and checks the block (nil: no schedule).
// It runs after the bot block's own defaults, with the whole config at
// hand for the environment and the ops channel.
func (s *Schedule) setDefaultsAndValidate(c *Config, p string, fe *fieldErrors) {
	if s == nil {
		return
	}
	if s.Cron == "" {
		s.Cron = DefaultScheduleCron
	}
	if s.Timezone == "" {
		s.Timezone = DefaultScheduleTimezone
	}
	if s.CatchUp == nil {
		d := model.Duration(schedule.DefaultCatchUp)
		s.CatchUp = &d
	}
	if s.Environment == "" {
		s.Environment = c.DefaultEnvironment
	}
	if s.Channel == "" && c.Bot != nil {
		s.Channel = c.Bot.Slack.OpsChannel
	}
	s.LeaderElection.SetDefaults()

	s.Cron = strings.TrimSpace(s.Cron)
	if loc, err := time.LoadLocation(s.Timezone); err != nil {
		fe.add(p+".timezone", "unknown time zone %q (want an IANA name like Europe/London)", s.Timezone)
	} else if _, err := schedule.Parse(s.Cron, loc); err != nil {
		fe.add(p+".cron", "%v", err)
	}
	if *s.CatchUp < 0 {
		fe.add(p+".catchUp", "must not be negative, got %s", *s.CatchUp)
	}
	if s.Environment != "" {
		if _, ok := c.Environments[s.Environment]; !ok {
			fe.add(p+".environment", "%q is not one of the environments (have: %s)", s.Environment, strings.Join(c.EnvironmentNames(), ", "))
		}
	}
	switch {
	case s.Channel == "" && s.On():
		fe.add(p+".channel", "required (or set bot.slack.opsChannel): the channel id (C...) the scheduled checklist is posted in")
	case s.Channel != "" && !channelID.MatchString(s.Channel):
		fe.add(p+".channel", "want a channel id like C0123ABCD (not a #name), got %q", s.Channel)
	}
	if s.Mention != "" && !usergroupID.MatchString(s.Mention) && !userID.MatchString(s.Mention) {
		fe.add(p+".mention", "want a user group id like S0123ABCD or a user id like U0123ABCD (not a @handle), got %q", s.Mention)
	}
	fe.addErr(p+".leaderElection", s.LeaderElection.Validate())
}

// String describes the schedule for logs: "30 9 * * 1-5 Europe/London".
func (s Schedule) String() string { return fmt.Sprintf("%s %s", s.Cron, s.Timezone) }
