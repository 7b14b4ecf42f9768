package main

import (
	"context"
	"errors"
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
	"github.com/opsbot/opsbot/schedule"
)

// envKubernetesHost is set by Kubernetes in every pod: opsbot runs in a
// cluster, and leader election is on unless the config says otherwise.
const envKubernetesHost = "KUBERNETES_SERVICE_HOST"

// scheduleOptions is the bot's scheduled checklist from the config's
// bot.schedule block: nil when there is none or it is disabled. runs is the
// store's claims (nil if the store has none). With leader election on, it
// connects to the cluster (in-cluster config in a pod, else the kubeconfig)
// for the Lease.
func scheduleOptions(cfg *config.Config, runs bot.ScheduleStore, getenv func(string) string, logger *zap.Logger) (*bot.Schedule, error) {
	s := cfg.Bot.Schedule
	if !s.On() {
		return nil, nil
	}
	if runs == nil {
		return nil, errors.New("bot.schedule: the store keeps no claims")
	}
	out := &bot.Schedule{
		Config: s.Config(), Environment: s.Environment, Channel: s.Channel, Mention: s.Mention,
		Store: runs, Elector: schedule.AlwaysLeader{},
	}
	inCluster := getenv(envKubernetesHost) != ""
	if !s.LeaderElection.On(inCluster) {
		logger.Info("scheduled checklist without leader election: the store's claims keep each occurrence to one run",
			zap.Stringer("schedule", s))
		return out, nil
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
	out.Elector = el
	logger.Info("scheduled checklist with leader election", zap.Stringer("schedule", s),
		zap.String("lease", s.LeaderElection.LeaseName), zap.String("identity", el.Identity()))
	return out, nil
}

// lastChecklist is the alerts-channel check's "since the last checklist"
// for env: the last scheduled run recorded in the store (nil without one).
func lastChecklist(runs bot.ScheduleStore, env string) func(ctx context.Context) (time.Time, error) {
	if runs == nil {
		return nil
	}
	return bot.LastChecklist(runs, env)
}

// scheduleLocation is the time zone of the alerts-channel check's
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

// alertsChannelSlack is the Slack client the alerts-channel check of env
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
