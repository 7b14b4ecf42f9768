package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/slack-go/slack"

	"github.com/opsbot/opsbot/checklist"
	"github.com/opsbot/opsbot/handover"
	"github.com/opsbot/opsbot/incident"
	"github.com/opsbot/opsbot/schedule"
	"github.com/opsbot/opsbot/templates"
)

// Scheduled is the scheduled checklist as the bot posts it: at each
// occurrence (the scheduler in cmd/opsbot calls the job once across the
// replicas), an intro mentioning who is on rotation, then the same report
// as `/ops checklist` (updated in place, Investigate buttons, recurrence).
type Scheduled struct {
	// Environment is the environment checked (default
	// Options.DefaultEnvironment).
	Environment string
	// Channel is where the intro and the report go (default
	// Options.OpsChannel).
	Channel string
	// Mention, optional, is who is on rotation: a user group id (S...) or
	// a user id (U...). The bot builds the mention from it.
	Mention string
	// Location is the time zone of the occurrence's time in the intro
	// (the schedule's).
	Location *time.Location
	// Runs records the runs whose report was posted
	// (checklist.RecordScheduledRun). Required.
	Runs checklist.RunLog
}

// ScheduledChecklist checks s and returns the scheduler's job: the intro,
// then the checklist report in place, then the run recorded for the next
// run's "since the last checklist".
func (b *Bot) ScheduledChecklist(s Scheduled) (schedule.Job, error) {
	if s.Environment == "" {
		s.Environment = b.opts.DefaultEnvironment
	}
	if s.Channel == "" {
		s.Channel = b.opts.OpsChannel
	}
	if s.Location == nil {
		s.Location = b.opts.Location
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
	if s.Runs == nil {
		errs = append(errs, errors.New("schedule: a run log is required (the store)"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	b.places.add(s.Channel) // its reports' buttons are clicked there
	return func(ctx context.Context, at time.Time) error { return b.scheduledChecklist(ctx, s, mention, at) }, nil
}

// scheduledChecklist is the job at the occurrence at, once the occurrence
// is claimed.
func (b *Bot) scheduledChecklist(ctx context.Context, s Scheduled, mention string, at time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, b.opts.ChecklistTimeout)
	defer cancel()
	env, channel := s.Environment, s.Channel
	intro, blocks, err := scheduledIntro(b.opts.Templates, env, at, s.Location, mention)
	if err != nil {
		return err
	}
	if _, _, err := b.api.PostMessageContext(ctx, channel,
		slack.MsgOptionText(intro, false), slack.MsgOptionBlocks(blocks...)); err != nil {
		return fmt.Errorf("posting the scheduled checklist's intro in %s: %w", channel, err)
	}
	list, err := b.opts.Checklist(ctx, env)
	if err != nil {
		msg := say(b.texts(), templates.OpsError, templates.NoData{})
		_, _, perr := b.api.PostMessageContext(ctx, channel, slack.MsgOptionText(msg, false), slack.MsgOptionBlocks(section(msg)))
		return errors.Join(fmt.Errorf("building the %s checklist: %w", env, err), perr)
	}
	scheduledBy := say(b.texts(), templates.ChecklistScheduledBy, templates.NoData{})
	reported, err := b.runChecklist(ctx, channel, env, scheduledBy, handover.ActorSchedule, list, "schedule")
	if !reported {
		return err
	}
	// The report is out: the next run reads the alerts channel from here.
	if rerr := checklist.RecordScheduledRun(ctx, s.Runs, env, at); rerr != nil {
		err = errors.Join(err, fmt.Errorf("recording the run: %w", rerr))
	}
	return err
}

// scheduledIntro is the message that opens the scheduled checklist of env
// at the occurrence at (shown in loc), mentioning mention (mentionOf; may
// be ""): its text, from the templates, and blocks.
func scheduledIntro(tmpl *templates.Set, env string, at time.Time, loc *time.Location, mention string) (string, []slack.Block, error) {
	intro, err := templates.Render(tmpl, templates.ChecklistScheduledIntroText, templates.ChecklistIntro{
		Environment: Escape(env), Time: incident.FormatTime(at, loc), Mention: mention,
	})
	if err != nil {
		return "", nil, err
	}
	return intro, []slack.Block{section(intro)}, nil
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

// actor shows who did something as recorded in the store: a mention when
// it is a Slack user or group id, else the recorded name, escaped.
func actor(id string) string {
	if m := mentionOf(id); m != "" {
		return m
	}
	return Escape(id)
}
