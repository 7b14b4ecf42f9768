package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/templates"
)

// ScheduleName names the scheduled checklist's occurrences in claim keys:
// "checklist/2026-11-24T09:30Z" (schedule.ClaimKey).
const ScheduleName = schedule.DefaultName

// scheduledBy is who the report says asked for a scheduled run.
const scheduledBy = "the schedule"

// LastClaimer reads back the latest claim of a prefix (store.DB.LastClaim).
type LastClaimer interface {
	LastClaim(ctx context.Context, prefix string) (key string, claimedAt time.Time, err error)
}

// ScheduleStore is what the scheduled checklist keeps in the store, shared
// by the replicas: a claim per occurrence, so that it runs once even with
// two replicas or a leader change at the scheduled time, and a claim per
// finished run (doneKey), read back by LastChecklist.
type ScheduleStore interface {
	schedule.Claimer
	LastClaimer
}

// Schedule runs the checklist of one environment on a schedule: at each
// occurrence, on the leader only and once across the replicas, the bot
// posts an intro mentioning who is on rotation, then the same report as
// `/ops checklist` (updated in place, Investigate buttons, recurrence).
type Schedule struct {
	// Config is the cron schedule, its time zone and catch-up time
	// (Config.LeaderElection is the caller's business: see Elector).
	Config schedule.Config
	// Environment is the environment checked (default
	// Options.DefaultEnvironment).
	Environment string
	// Channel is where the intro and the report go (default
	// Options.OpsChannel).
	Channel string
	// Mention, optional, is who is on rotation: a user group id (S...) or
	// a user id (U...). The bot builds the mention from it.
	Mention string
	// Store claims the occurrences and records the runs; required.
	Store ScheduleStore
	// Elector says whether this replica is the leader; the bot runs it
	// as an actor. Default schedule.AlwaysLeader (the store's claims
	// still make each occurrence run once).
	Elector schedule.Elector
	// Clock is the scheduler's time (default schedule.RealClock).
	Clock schedule.Clock
}

// scheduler is a running Schedule.
type scheduler struct {
	cfg     Schedule
	sched   *schedule.Scheduler
	mention string
	loc     *time.Location
	tmpl    *templates.Set
}

// newScheduler checks the options' Schedule and builds its scheduler; nil
// when there is none.
func (b *Bot) newScheduler() (*scheduler, error) {
	if b.opts.Schedule == nil {
		return nil, nil
	}
	s := *b.opts.Schedule
	if s.Environment == "" {
		s.Environment = b.opts.DefaultEnvironment
	}
	if s.Channel == "" {
		s.Channel = b.opts.OpsChannel
	}
	if s.Elector == nil {
		s.Elector = schedule.AlwaysLeader{}
	}
	var errs []error
	if !slices.Contains(b.opts.Environments, s.Environment) {
		errs = append(errs, fmt.Errorf("schedule.environment: %q is not one of the environments", s.Environment))
	}
	if !validSlackID(s.Channel, "C", "G") {
		errs = append(errs, fmt.Errorf("schedule.channel: want a channel id (C...), got %q", s.Channel))
	}
	mention := mentionOf(s.Mention)
	if s.Mention != "" && mention == "" {
		errs = append(errs, fmt.Errorf("schedule.mention: want a user group id (S...) or a user id (U...), got %q", s.Mention))
	}
	if s.Store == nil {
		errs = append(errs, errors.New("schedule: a store is required (claims and run records)"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	tmpl := b.opts.Templates
	if tmpl == nil {
		var err error
		if tmpl, err = templates.New(""); err != nil {
			return nil, err
		}
	}
	sc := &scheduler{cfg: s, mention: mention, tmpl: tmpl}
	var err error
	sc.sched, err = schedule.New(s.Config, b.scheduledChecklist, schedule.Options{
		Name: ScheduleName, Elector: s.Elector, Claimer: s.Store, Clock: s.Clock, Logger: b.log.Named("schedule"),
	})
	if err != nil {
		return nil, fmt.Errorf("schedule.%w", err)
	}
	sc.loc = sc.sched.Schedule().Location()
	return sc, nil
}

// actors are the scheduler and its elector, each stopped by cancelling its
// own context.
func (sc *scheduler) actors(ctx context.Context) []actor {
	run := func(name string, fn func(context.Context) error) actor {
		ctx, cancel := context.WithCancel(ctx)
		return actor{name: name, run: func() error { return fn(ctx) }, stop: cancel}
	}
	return []actor{run("scheduler", sc.sched.Start), run("leader-election", sc.cfg.Elector.Run)}
}

// scheduledChecklist is the scheduler's job at the occurrence at, once the
// occurrence is claimed: the intro, then the checklist report in place,
// then the run is recorded for the next run's "since the last checklist".
func (b *Bot) scheduledChecklist(ctx context.Context, at time.Time) error {
	sc := b.sched
	ctx, cancel := context.WithTimeout(ctx, b.opts.ChecklistTimeout)
	defer cancel()
	env, channel := sc.cfg.Environment, sc.cfg.Channel
	intro, blocks, err := scheduledIntro(sc.tmpl, env, at, sc.loc, sc.mention)
	if err != nil {
		return err
	}
	if _, _, err := b.api.PostMessageContext(ctx, channel,
		slack.MsgOptionText(intro, false), slack.MsgOptionBlocks(blocks...)); err != nil {
		return fmt.Errorf("posting the scheduled checklist's intro in %s: %w", channel, err)
	}
	list, err := b.opts.Checklist(ctx, env)
	if err != nil {
		msg := text(tSomethingWrong)
		_, _, perr := b.api.PostMessageContext(ctx, channel, slack.MsgOptionText(msg, false), slack.MsgOptionBlocks(section(msg)))
		return errors.Join(fmt.Errorf("building the %s checklist: %w", env, err), perr)
	}
	reported, err := b.runChecklist(ctx, channel, env, Escape(scheduledBy), list)
	if !reported {
		return err
	}
	// The report is out: the next run reads the alerts channel from here.
	if _, rerr := sc.cfg.Store.Claim(ctx, doneKey(env, at)); rerr != nil {
		err = errors.Join(err, fmt.Errorf("recording the run: %w", rerr))
	}
	return err
}

// scheduledIntro is the message that opens the scheduled checklist of env
// at the occurrence at (shown in loc), mentioning mention (mentionOf; may
// be ""): its text, from the templates, and blocks.
func scheduledIntro(tmpl *templates.Set, env string, at time.Time, loc *time.Location, mention string) (string, []slack.Block, error) {
	intro, err := tmpl.Render(templates.ChecklistScheduledIntro, templates.ChecklistIntro{
		Environment: Escape(env), Time: incident.FormatTime(at, loc), Mention: mention,
	})
	if err != nil {
		return "", nil, err
	}
	return intro, []slack.Block{section(intro)}, nil
}

// doneKey is the claim recording the finished run of env at at:
// "checklist-done/prod/2026-11-24T09:30Z".
func doneKey(env string, at time.Time) string { return schedule.ClaimKey(donePrefix(env), at) }

func donePrefix(env string) string { return "checklist-done/" + env }

// claimKeyLayout is schedule.ClaimKey's time format.
const claimKeyLayout = "2006-01-02T15:04Z"

// LastChecklist returns a function telling when the scheduled checklist of
// env last ran (the time of its occurrence), zero if it never did: the
// alerts-channel check's "since the last checklist". Only scheduled runs
// whose report was posted count; `/ops checklist` and `opsbot checklist`
// read from there without moving it.
func LastChecklist(s LastClaimer, env string) func(ctx context.Context) (time.Time, error) {
	prefix := donePrefix(env) + "/"
	return func(ctx context.Context) (time.Time, error) {
		key, claimedAt, err := s.LastClaim(ctx, prefix)
		if err != nil || key == "" {
			return time.Time{}, err
		}
		if at, err := time.Parse(claimKeyLayout, strings.TrimPrefix(key, prefix)); err == nil {
			return at, nil
		}
		return claimedAt, nil
	}
}

// mentionOf is the mention of a user group (S...) or user (U..., W...)
// id, "" for anything else: mentions are built from configuration only.
func mentionOf(id string) string {
	switch {
	case validSlackID(id, "S"):
		return Mention(id)
	case validSlackID(id, "U", "W"):
		return "<@" + id + ">"
	}
	return ""
}

// NextScheduledChecklist is when the scheduled checklist next runs after
// t; zero without a schedule.
func (b *Bot) NextScheduledChecklist(t time.Time) time.Time {
	if b.sched == nil {
		return time.Time{}
	}
	return b.sched.sched.Schedule().Next(t)
}
