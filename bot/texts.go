package bot

import (
	"fmt"
)

// Message texts, by template name. The templates package (next issue) will
// load overridable text/template files under the same names; until then the
// texts are Printf formats, filled with values that were escaped already
// (Escape, Link) or are ours. The follow-up of a decision comes from the
// templates package (Decision.FollowUpTemplate(), e.g.
// "triage.followup.noise"; Bot.followUpText).
const (
	tUsage          = "ops.usage"
	tUnknownCommand = "ops.unknown"
	tSomethingWrong = "ops.error"
	tRefused        = "ops.refused"
	tBusy           = "ops.busy"

	tChecklistRunning    = "checklist.running"
	tChecklistTitle      = "checklist.title"
	tChecklistCheckWait  = "checklist.check.waiting"
	tChecklistMore       = "checklist.more"
	tChecklistTruncated  = "checklist.truncated"
	tChecklistStale      = "checklist.stale"
	tChecklistUnsaved    = "checklist.unsaved"
	tChecklistNotInChan  = "checklist.notInChannel"
	tChecklistUnknownEnv = "checklist.unknownEnvironment"
	tChecklistTimedOut   = "checklist.timedOut"
	tChecklistCancelled  = "checklist.cancelled"

	tAnomalyLooking  = "triage.looking"
	tAnomalyExisting = "triage.existing"
	tAnomalyOpened   = "triage.opened"
	tAnomalyDecide   = "triage.decidePrompt"
	tOutcome         = "triage.outcome"
	tOutcomeNone     = "triage.outcome.none"
	tEscalatedNote   = "triage.escalatedNote"
	tDecided         = "triage.decided"
	tSeenAgain       = "triage.seenAgain"
	tEscalate        = "triage.escalate"
	tStaleAnomaly    = "triage.stale"
	// tFullTextInTimeline ends a field cut in a thread reply.
	tFullTextInTimeline = "triage.cut"

	tStatusNone   = "status.none"
	tStatusHeader = "status.header"
	tStatusLine   = "status.line"
)

var texts = map[string]string{
	tUsage: "*/ops* — the ops rotation's bot\n" +
		"• `/ops checklist [environment]` run the daily checklist (environments: %s)\n" +
		"• `/ops anomaly &lt;title&gt;` start investigating something by hand\n" +
		"• `/ops status` list the open anomalies and their threads\n" +
		"• `/ops incident [environment]` announce an incident (a form: from when, user impact, what)\n" +
		"• `/ops update [id] &lt;text&gt;` post an update in the incident's thread and on the status page\n" +
		"• `/ops resolve [id] [14:05]` resolve the incident (default: now)\n" +
		"• `/ops help` this message",
	tUnknownCommand: "I don't know `%s`.",
	tSomethingWrong: ":warning: Something went wrong; the details are in opsbot's logs. Please try again.",
	tRefused:        ":no_entry: You are not allowed to do that: only the configured deciders can %s.",
	tBusy:           ":hourglass: opsbot is busy; please try again in a minute.",

	tChecklistRunning:   ":hourglass_flowing_sand: Running the *%s* checklist… (%d checks, asked by %s)",
	tChecklistTitle:     "%s *Checklist %s*: %s · %s · asked by %s",
	tChecklistCheckWait: ":hourglass_flowing_sand: *%s* running…",
	tChecklistMore:      "…and %d more",
	tChecklistTruncated: "Some findings are not shown (Slack's message limits); run `opsbot checklist %s` in a terminal for all of them.",
	// Runs are kept store.RunRetention (30 days).
	tChecklistStale:      "This report is older than 30 days (or not one I stored), so I no longer have its findings: run `/ops checklist` again.",
	tChecklistTimedOut:   "The checklist timed out: the checks not finished are marked unknown.",
	tChecklistCancelled:  "The checklist was cancelled (opsbot is stopping): the checks not finished are marked unknown.",
	tChecklistUnsaved:    ":warning: I could not store this report's findings, so it has no Investigate buttons: run `/ops checklist` again.",
	tChecklistNotInChan:  "I can't post in this channel: invite me (`/invite @opsbot`) and try again.",
	tChecklistUnknownEnv: "There is no environment `%s` (have: %s).",

	tAnomalyLooking:     ":eyes: %s is looking at *%s* (anomaly #%d, %s)",
	tAnomalyExisting:    "Anomaly #%d is already being investigated: %s",
	tAnomalyOpened:      "Opened anomaly #%d: %s",
	tAnomalyDecide:      "Decide when you know:",
	tOutcome:            "*Decision: %s* by %s on %s",
	tOutcomeNone:        "_No decision yet._",
	tEscalatedNote:      ":rotating_light: Escalated on %s: %s",
	tDecided:            "*%s* — decided by %s\n*Conclusion:* %s",
	tSeenAgain:          ":repeat: %s",
	tEscalate:           ":rotating_light: %s it keeps coming back: %s. It was decided Intermittent; please reconsider it as *Serious*.",
	tStaleAnomaly:       "Anomaly #%d no longer exists.",
	tFullTextInTimeline: " … full text in the timeline",

	tStatusNone:   "No open anomalies. :sunny:",
	tStatusHeader: "*Open anomalies* (%d)",
	tStatusLine:   "• #%d *%s* — %s, %s · %s",
}

// text formats the text named name with args.
func text(name string, args ...any) string {
	f, ok := texts[name]
	if !ok {
		return fmt.Sprintf("[missing text %s]", name)
	}
	if len(args) == 0 {
		return f
	}
	return fmt.Sprintf(f, args...)
}
