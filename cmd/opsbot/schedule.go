package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"

	"github.com/opsbot/opsbot/bot"
	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/checks/alertschannel"
	"github.com/opsbot/opsbot/internal/config"
	"github.com/opsbot/opsbot/internal/run"
	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/store"
)

// envKubernetesHost is set by Kubernetes in every pod: opsbot runs in a
// cluster, and leader election is on unless the config says otherwise.
const envKubernetesHost = "KUBERNETES_SERVICE_HOST"

// addSchedule adds the scheduled checklist of the config's bot.schedule
// block to g: the scheduler, which claims each occurrence in the store
// (once across the replicas) and calls the bot's job, and its leader
// election. Nothing without the block, or with it disabled.
func addSchedule(g *run.Group, cfg *config.Config, b *bot.Bot, db *store.DB, getenv func(string) string, logger *zap.Logger) error {
	s := cfg.Bot.Schedule
	if !s.On() {
		return nil
	}
	scheduled, err := scheduledChecklist(cfg, db)
	if err != nil {
		return err
	}
	job, err := b.ScheduledChecklist(scheduled)
	if err != nil {
		return fmt.Errorf("bot.%w", err)
	}
	elector, err := scheduleElector(cfg, getenv, logger)
	if err != nil {
		return err
	}
	sched, err := schedule.New(s.Config(), job, schedule.Options{Name: schedule.DefaultName, Elector: elector,
		Claimer: db, Logger: logger.Named("schedule")})
	if err != nil {
		return fmt.Errorf("bot.schedule.%w", err)
	}
	g.Add("scheduler", sched.Start)
	g.Add("leader-election", elector.Run)
	return nil
}

// noiseWeeklyName names the weekly noise post's schedule in its claims
// ("noise-weekly/2026-11-30T09:00Z") and logs.
const noiseWeeklyName = "noise-weekly"

// addNoiseWeekly adds the weekly noise post of the config's
// bot.noise.weekly block to g: a scheduler on every replica, each
// occurrence claimed in the store so that one replica posts it. Nothing
// without the block.
func addNoiseWeekly(g *run.Group, cfg *config.Config, b *bot.Bot, db *store.DB, logger *zap.Logger) error {
	w := cfg.Bot.Noise.Weekly
	if w == nil {
		return nil
	}
	job, err := b.NoiseWeeklyJob(bot.NoiseWeekly{Channel: w.Channel, Days: w.Days})
	if err != nil {
		return fmt.Errorf("bot.%w", err)
	}
	sched, err := schedule.New(w.Config(), job, schedule.Options{Name: noiseWeeklyName, Claimer: db,
		Logger: logger.Named(noiseWeeklyName)})
	if err != nil {
		return fmt.Errorf("bot.noise.weekly.%w", err)
	}
	g.Add(noiseWeeklyName, sched.Start)
	return nil
}

// scheduledChecklist is what the bot posts at each occurrence of the
// config's schedule; runs records the runs.
func scheduledChecklist(cfg *config.Config, runs checklist.RunLog) (bot.Scheduled, error) {
	s := cfg.Bot.Schedule
	loc, err := s.Config().Location()
	if err != nil {
		return bot.Scheduled{}, fmt.Errorf("bot.schedule.%w", err)
	}
	return bot.Scheduled{Environment: s.Environment, Channel: s.Channel, Mention: s.Mention, Location: loc, Runs: runs}, nil
}

// scheduleElector says which replica runs the schedule: with leader
// election on (by default in a pod, KUBERNETES_SERVICE_HOST), a Lease,
// reached with the in-cluster config in a pod, else the kubeconfig;
// otherwise every replica is leader and the store's claims keep each
// occurrence to one run.
func scheduleElector(cfg *config.Config, getenv func(string) string, logger *zap.Logger) (schedule.Elector, error) {
	s := cfg.Bot.Schedule
	inCluster := getenv(envKubernetesHost) != ""
	if !s.LeaderElection.On(inCluster) {
		logger.Info("scheduled checklist without leader election: the store's claims keep each occurrence to one run",
			zap.Stringer("schedule", s))
		return schedule.AlwaysLeader{}, nil
	}
	rc, err := checklist.RESTConfig(config.Kubernetes{InCluster: inCluster})
	if err != nil {
		return nil, fmt.Errorf("bot.schedule.leaderElection: connecting to Kubernetes for the Lease: %w", err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("bot.schedule.leaderElection: %w", err)
	}
	el, err := schedule.NewLeaseElector(cs.CoordinationV1(), s.LeaderElection.LeaderElectionConfig, logger.Named("leader"))
	if err != nil {
		return nil, fmt.Errorf("bot.schedule.%w", err)
	}
	logger.Info("scheduled checklist with leader election", zap.Stringer("schedule", s),
		zap.String("lease", s.LeaderElection.LeaseName), zap.String("identity", el.Identity()))
	return el, nil
}

// lastChecklist is the alertschannel check's "since the last checklist"
// for env: the last scheduled run recorded in the store (nil without one).
func lastChecklist(runs checklist.RunLog, env string) func(ctx context.Context) (time.Time, error) {
	if runs == nil {
		return nil
	}
	return checklist.LastScheduledRun(runs, env)
}

// scheduleLocation is the time zone of the alertschannel check's
// summaries ("since 09:30 yesterday"): the schedule's, else time.Local.
func scheduleLocation(cfg *config.Config) *time.Location {
	if cfg.Bot == nil || cfg.Bot.Schedule == nil {
		return nil
	}
	loc, err := time.LoadLocation(cfg.Bot.Schedule.Timezone)
	if err != nil {
		return nil
	}
	return loc
}

// alertsChannelSlack is the Slack client the alertschannel check of env
// reads the channel with, from the bot token in the environment and the
// config's bot.slack.apiURL; nil when the check is off or there is no token
// (checklist.Build then says to set SLACK_BOT_TOKEN).
func alertsChannelSlack(cfg *config.Config, env *config.Environment, getenv func(string) string) alertschannel.History {
	ac := env.Checks.AlertsChannel
	if !ac.On(ac.Config.Channel != "") {
		return nil
	}
	tok := strings.TrimSpace(getenv(envBotToken))
	if tok == "" {
		return nil
	}
	apiURL := config.DefaultSlackAPIURL
	if cfg.Bot != nil {
		apiURL = cfg.Bot.Slack.APIURL
	}
	return slack.New(tok, slack.OptionAPIURL(apiURL))
}

// handoverOptions is the rotation's handover from the config's
// bot.handover block (defaults without it: the ops channel, no mention,
// no schedule), reading and recording in db.
func handoverOptions(cfg *config.Config, db *store.DB) (*bot.Handover, error) {
	bc := cfg.Bot
	h := &bot.Handover{Store: db, Incidents: db.Incidents(), Recurrence: bc.Recurrence}
	hc := bc.Handover
	if hc == nil {
		return h, nil
	}
	h.Channel, h.Mention, h.Shift, h.Near = hc.Channel, hc.Mention, time.Duration(hc.Shift), hc.NearEscalation
	if hc.Scheduled() {
		c := hc.Config()
		c.SetDefaults()
		sched, err := c.Parsed()
		if err != nil {
			return nil, fmt.Errorf("bot.handover.%w", err)
		}
		h.Schedule = sched
	}
	return h, nil
}

// addHandoverSchedule adds the scheduled handover of the config's
// bot.handover.cron to g: a scheduler whose claims in the store keep each
// occurrence to one post across the replicas (every replica runs it; no
// leader election is needed for that). Nothing without a cron.
func addHandoverSchedule(g *run.Group, cfg *config.Config, b *bot.Bot, db *store.DB, logger *zap.Logger) error {
	hc := cfg.Bot.Handover
	if !hc.Scheduled() {
		return nil
	}
	job, err := b.ScheduledHandover()
	if err != nil {
		return fmt.Errorf("bot.%w", err)
	}
	sched, err := schedule.New(hc.Config(), job, schedule.Options{Name: "handover", Elector: schedule.AlwaysLeader{},
		Claimer: db, Logger: logger.Named("handover")})
	if err != nil {
		return fmt.Errorf("bot.handover.%w", err)
	}
	logger.Info("scheduled handover", zap.String("cron", hc.Cron), zap.String("timezone", hc.Timezone))
	g.Add("handover-scheduler", sched.Start)
	return nil
}
