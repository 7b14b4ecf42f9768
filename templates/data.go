package templates

// The data types of the templates. Every string field is mrkdwn, safe to
// show as it is: "escaped" means the bot passed untrusted text (what people
// typed, names, titles, error texts) through its escaping function;
// "opsbot's" means the text is the bot's own (a label, a number, a
// formatted time) or built by the bot from configuration. Times are
// formatted like "2026-11-24 09:30 GMT" (incident.FormatTime) unless a
// field says otherwise.

// NoData is the data of the templates that show no data: fixed sentences
// ("ops.busy", "checklist.stale", the modals' hints...).
type NoData struct{}

// --- /ops -------------------------------------------------------------------

// Usage is the data of "ops.usage", the help of /ops.
type Usage struct {
	// Environments are the environments /ops checklist accepts,
	// comma-separated, escaped.
	Environments string
}

// Command is the data of the texts about a subcommand of /ops
// ("ops.unknown", "ops.atMostOneEnvironment").
type Command struct {
	// Command is the subcommand: as the user typed it (cut to 50
	// characters), escaped ("ops.unknown"), or opsbot's ("checklist").
	Command string
}

// Character is the data of "ops.directionControl": a character a command
// may not contain.
type Character struct {
	// Code is its code point ("U+202E"); Name its Unicode name
	// ("RIGHT-TO-LEFT OVERRIDE").
	Code, Name string
}

// Refused is the data of "ops.refused": someone who is not a decider tried
// something only deciders may do.
type Refused struct {
	// Action is what they tried, opsbot's words: "record decisions", "run
	// the checklist".
	Action string
}

// NotHere is the data of "ops.notHere": a command, click or form from a
// channel (or direct message) where opsbot may not be used.
type NotHere struct {
	// DirectMessage: it came from a direct message.
	DirectMessage bool
	// Channels are where opsbot may be used, as channel mentions
	// ("<#C0123OPS0>, <#C0123DEV0>"), from the configuration; "" when any
	// channel the bot is in will do.
	Channels string
}

// --- the checklist --------------------------------------------------------------

// Running is the data of "checklist.running", the message a checklist run
// posts first and updates as its checks finish.
type Running struct {
	// Environment is the environment checked, escaped.
	Environment string
	// Checks is how many checks run.
	Checks int
	// AskedBy is who asked: "@alice", escaped, or the rendered
	// "checklist.scheduledBy".
	AskedBy string
}

// Check is the data of "checklist.check.waiting": a check still running.
type Check struct {
	// Check is the check's name, escaped.
	Check string
}

// Report is the data of the texts of a finished checklist: its title
// ("checklist.title") and its one-line summary, the message's notification
// text ("checklist.summary").
type Report struct {
	// Emoji is the report's status as an emoji (":red_circle:"), opsbot's.
	Emoji string
	// Environment is the environment checked, escaped.
	Environment string
	// Status is the report's status ("fail", "warn", "unknown", "ok").
	Status string
	// Finished is when the run finished, in UTC ("2026-11-24 09:30 UTC"),
	// and Took how long it took ("2s").
	Finished string
	Took     string
	// AskedBy is who asked, like Running.AskedBy.
	AskedBy string
	// Stopped is why the run was cut short (the rendered
	// "checklist.timedOut" or "checklist.cancelled"), "" when it finished.
	Stopped string
}

// Env is the data of the texts about an environment
// ("checklist.truncated", "incident.noStatusPage").
type Env struct {
	// Environment is the environment's name, escaped.
	Environment string
}

// UnknownEnvironment is the data of "checklist.unknownEnvironment": a
// command named an environment that is not configured.
type UnknownEnvironment struct {
	// Environment is what the user typed (cut to 50 characters), escaped.
	Environment string
	// Environments are the configured environments, comma-separated,
	// escaped.
	Environments string
}

// Count is the data of the texts that count something ("checklist.more":
// "…and 3 more", "status.header", "incident.whichUpdate").
type Count struct {
	Count int
}

// KnownNoise is the data of the texts about a finding a triage decision
// covers, or covered until it grew ("checklist.knownNoise.line",
// "checklist.grew").
type KnownNoise struct {
	// Check is the check that found it, and Title the finding's title,
	// both escaped.
	Check string
	Title string
	// ID is the anomaly the finding was decided as.
	ID int64
	// Decision is its decision ("Noise", "Intermittent"), DecidedBy who
	// made it ("@bob", escaped), DecidedAt when ("2026-11-24 09:30 UTC").
	Decision  string
	DecidedBy string
	DecidedAt string
	// DecidedCount is how big the finding was when decided ("12"; "" when
	// not known), Count how big it is now ("150").
	DecidedCount string
	Count        string
}

// RunCost is the data of "checklist.cost", the last line of a report: what
// the run cost the systems it looked at. Both fields are opsbot's own
// text.
type RunCost struct {
	// Took is how long the run took ("4.1s").
	Took string
	// Cost is checks.Cost's String: "1,954 API calls · 195.0 MB of logs
	// read · 0 throttled".
	Cost string
}

// --- anomalies and decisions ------------------------------------------------------

// Anomaly is the data of the texts about one anomaly. ID is always set;
// the other fields by the texts that show them.
type Anomaly struct {
	// ID is the anomaly's number.
	ID int64
	// Title is its title on one line, cut and escaped ("triage.looking").
	Title string
	// Environment is its environment, escaped ("triage.looking").
	Environment string
	// OpenedBy is who opened it, "@alice", escaped ("triage.looking").
	OpenedBy string
	// Thread is a link to its thread in Slack, mrkdwn built by opsbot
	// ("triage.opened", "triage.existing").
	Thread string
}

// Outcome is the data of "triage.outcome", the decision shown on an
// anomaly's root message.
type Outcome struct {
	// Decision is the decision's label ("Intermittent"), opsbot's.
	Decision string
	// DecidedBy is who decided, "@alice", escaped.
	DecidedBy string
	// At is when, in UTC ("2026-11-24 10:30 UTC").
	At string
}

// LastTime is the data of "triage.lastTime" and "triage.modal.prefilled":
// what was decided the last time a fingerprint was investigated.
type LastTime struct {
	// ID is the anomaly that decision was made on.
	ID int64
	// When is the day it was made ("12 Nov 2026"), opsbot's.
	When string
	// DecidedBy is who made it, "@bob", escaped.
	DecidedBy string
	// Decision is its label ("Noise"), opsbot's.
	Decision string
	// Conclusion is its conclusion on one line, cut, escaped.
	Conclusion string
	// Ticket links the ticket, named by its URL's last part
	// ("<https://jira.example.com/browse/OPS-123|OPS-123>"); "" when none.
	Ticket string
	// Thread links that anomaly's thread ("<https://…|thread>"); "" when
	// it has none or its link is not known.
	Thread string
	// Seen is how many times the fingerprint was seen in the last Days
	// days.
	Seen int64
	Days int
}

// Tip is the data of the texts about a runbook tip ("triage.tip", "tip.*").
type Tip struct {
	// ID is the tip's number.
	ID int64
	// Pattern is what it matches, Text the tip, both escaped.
	Pattern string
	Text    string
	// Author is who added it ("@alice", escaped); Created when
	// ("2026-11-24 09:30 UTC").
	Author  string
	Created string
}

// DecisionForm is the data of "triage.modal.intro", the first lines of
// the decision modal.
type DecisionForm struct {
	// ID is the anomaly's number; Title its title on one line, cut and
	// escaped, "" while the modal is opened from the button alone (it is
	// updated with the title a moment later).
	ID    int64
	Title string
	// Decision is the decision's label ("Serious"), opsbot's; Runbook what
	// the runbook says to do after it, in one sentence, escaped.
	Decision string
	Runbook  string
}

// Escalated is the data of "triage.escalatedNote", on the root message of
// an anomaly that was escalated.
type Escalated struct {
	// At is when it was escalated, like Outcome.At.
	At string
}

// Decided is the data of "triage.decided", the first lines of a decision's
// reply in the anomaly's thread (and its notification text).
type Decided struct {
	// Decision is the decision's label, opsbot's.
	Decision string
	// DecidedBy is who decided, "@alice", escaped.
	DecidedBy string
	// Conclusion is the decider's conclusion, escaped (cut, with the
	// rendered "triage.cut", when long).
	Conclusion string
}

// Recurrence is the data of "triage.seenAgain" and "triage.escalate": an
// anomaly's finding was seen again by a checklist.
type Recurrence struct {
	// Recurrence says how often and since when ("seen again, 3rd time
	// since it was decided Intermittent on ..."), escaped.
	Recurrence string
	// Mention is the ops group's mention ("<!subteam^S0123>"), built by
	// opsbot from configuration, or "" ("triage.escalate").
	Mention string
}

// Problem is the data of the texts that tell why something was refused or
// failed: a validation error's or the status page's error text, escaped.
type Problem struct {
	Problem string
}

// TooLong is the data of "triage.titleTooLong".
type TooLong struct {
	// Length is how many characters were given, Max how many are allowed.
	Length int
	Max    int
}

// OpenAnomaly is the data of "status.line", one open anomaly in the list of
// /ops status.
type OpenAnomaly struct {
	ID int64
	// Title is its title on one line, cut and escaped.
	Title string
	// Environment is its environment, escaped.
	Environment string
	// Decision is the label of its decision, opsbot's; "" when undecided.
	Decision string
	// Escalated: it was escalated.
	Escalated bool
	// HasThread: its thread was posted; Thread is a link to it, mrkdwn
	// built by opsbot, or "" when Slack gave no link.
	HasThread bool
	Thread    string
}

// FollowUp is the data of the triage.followup.* templates: what the
// runbook asks after a decision, with what the decider wrote down. Every
// string is escaped; the empty string means "not given".
type FollowUp struct {
	// Decision is the decision's label ("Not enough information").
	Decision string
	// DecidedBy is who decided, as mrkdwn like Update.By.
	DecidedBy string
	// Conclusion is the decider's conclusion.
	Conclusion string
	// Ticket is a ticket URL, as mrkdwn (a link built by the bot).
	Ticket string
	// ToCollect (Not enough information): what extra information to collect.
	ToCollect string
	// UsersAffected (Serious): how many users are affected and how.
	UsersAffected string
	// Outage (Serious): it is an outage; an incident should be announced.
	Outage bool
	// Dashboard (Noise): the dashboard that shows it, as mrkdwn (a link).
	Dashboard string
	// Runbook is the runbook's follow-up for the decision in one sentence
	// ("Collaborate with others to decide."), opsbot's: what
	// "triage.followup.runbook" shows when a follow-up renders empty.
	Runbook string
}

// --- incidents --------------------------------------------------------------------

// Announce is the data of IncidentAnnounce, the runbook's announcement in
// the main channel.
type Announce struct {
	// From is when the impact started, formatted (incident.FormatTime:
	// "2026-11-24 09:30 GMT").
	From string
	// UserImpact and What are what the announcer typed, on one line each
	// (new lines folded into spaces) and escaped.
	UserImpact string
	What       string
	// Environment is the environment's name ("prod"), escaped. The default
	// template does not show it.
	Environment string
}

// ResolvedSuffix is the data of IncidentResolvedSuffix: the lines appended,
// after a new line, to the announcement when the incident is resolved
// (the announcement's own text stays as it was).
type ResolvedSuffix struct {
	// Until is when the impact ended, formatted like Announce.From.
	Until string
}

// Update is the data of IncidentUpdate, an update posted in the
// incident's thread.
type Update struct {
	// Text is the update, escaped (new lines kept).
	Text string
	// By is who gave it, as mrkdwn: a user mention ("<@U0123>") or an
	// escaped name.
	By string
	// At is when, formatted like Announce.From.
	At string
}

// Closing is the data of IncidentClosing, the last line in the incident's
// thread.
type Closing struct {
	// Duration is how long the impact lasted, formatted
	// (incident.FormatDuration: "1h 25m").
	Duration string
	// From and Until are formatted like Announce.From.
	From  string
	Until string
	// ResolvedBy is who resolved it, as mrkdwn like Update.By.
	ResolvedBy string
}

// Incident is the data of the bot's answers about one incident
// ("incident.announced", "incident.resolved", "incident.line",
// "incident.postFailed"...). ID is always set; the other fields by the
// texts that show them.
type Incident struct {
	// ID is the incident's number.
	ID int64
	// AnomalyID is the anomaly it was announced from ("incident.alreadyForAnomaly").
	AnomalyID int64
	// Environment is its environment, escaped ("incident.line").
	Environment string
	// Channel is the id of the channel of its announcement (C0123),
	// opsbot's, shown as "<#{{.Channel}}>".
	Channel string
	// Link is the rendered "incident.announcementLink": a link to the
	// announcement, or why there is none.
	Link string
	// From is when the impact started; Until when it ended, or the end
	// asked for ("incident.untilBeforeFrom", "incident.untilFuture").
	From  string
	Until string
	// Duration is how long the impact lasted ("1h 25m").
	Duration string
	// UserImpact is its user impact on one line, cut and escaped
	// ("incident.line").
	UserImpact string
	// By is who announced it ("incident.linkedInThread") or resolved it
	// ("incident.alreadyResolved", "incident.wasResolved"): "@alice",
	// escaped.
	By string
	// Reason is why a Slack step failed: the rendered
	// "incident.slackReason" ("incident.postFailed", "incident.editFailed").
	Reason string
	// StatusPage is the state of its status page incident
	// ("incident.statusPageDone"): "open", "resolved", "skipped" (it was
	// resolved before it reached the status page) or "pending".
	StatusPage string
}

// AnnouncementLink is the data of "incident.announcementLink": where an
// incident's announcement is.
type AnnouncementLink struct {
	// Posted: the announcement was posted.
	Posted bool
	// Link is a link to it, mrkdwn built by opsbot, or "" when Slack gave
	// none.
	Link string
	// Channel is the id of its channel, opsbot's.
	Channel string
}

// SlackReason is the data of "incident.slackReason": why a Slack call
// failed, for the user. At most one field is set; none: a failure that is
// not Slack's (the details are in the logs).
type SlackReason struct {
	// None: there was no error to explain.
	None bool
	// Code is Slack's error code ("not_in_channel"), cut and escaped.
	Code string
	// RateLimited: Slack is rate limiting opsbot.
	RateLimited bool
	// HTTPStatus is the HTTP status Slack answered with.
	HTTPStatus int
	// TimedOut: Slack did not answer in time.
	TimedOut bool
}

// BadInput is the data of the texts about words of a command that could not
// be read ("incident.notIdOrTime", "incident.notATime").
type BadInput struct {
	// Input is the word or words (cut), escaped.
	Input string
	// Location is the time zone times are read in ("Europe/London"),
	// escaped ("incident.notATime").
	Location string
}

// AnnounceForm is the data of "incident.modal.intro", the first lines of
// the announcement modal.
type AnnounceForm struct {
	// Environment is the environment of the incident, escaped.
	Environment string
	// Channel is the id of the channel the announcement goes to, opsbot's.
	Channel string
	// AnomalyID is the anomaly the modal was opened from (its Announce
	// incident button), 0 for none; AnomalyTitle its title, cut and
	// escaped; Thread a link to its thread, mrkdwn built by opsbot, or "".
	AnomalyID    int64
	AnomalyTitle string
	Thread       string
}

// DateTime is the data of "incident.form.notATime": the announcement
// modal's date and time pickers gave values that are not a time. Modal
// errors are plain text: Date and Time are as Slack sent them.
type DateTime struct {
	Date string
	Time string
}

// --- the scheduled checklist --------------------------------------------------

// ChecklistIntro is the data of ChecklistScheduledIntro, the message that
// opens a scheduled run of the checklist.
type ChecklistIntro struct {
	// Environment is the environment checked ("prod"), escaped.
	Environment string
	// Time is the occurrence's time, formatted like Announce.From.
	Time string
	// Mention is the ops group's mention ("<!subteam^S0123>"), built by the
	// bot from configuration, or "".
	Mention string
}

// --- /ops noise -------------------------------------------------------------

// BadDays is the data of "noise.badDays": the period asked for is not a
// number of days from 1 to Max.
type BadDays struct {
	// Given is what was typed, cut and escaped.
	Given string
	Max   int
}

// NoisePeriod is the data of "noise.header", the first line of the noise
// report.
type NoisePeriod struct {
	// Days is the period's length in UTC days; Since and Until its first
	// day and its end, formatted by opsbot (UTC).
	Days         int
	Since, Until string
	// Sightings is the number of sightings in the period; Sparkline draws
	// them per day (one bar a day).
	Sightings int
	Sparkline string
}

// DaySightings is the data of "noise.day", the sightings of one UTC day.
type DaySightings struct {
	// Day is the date ("11-24"), formatted by opsbot.
	Day       string
	Sightings int
}

// NoisyFingerprint is the data of "noise.top.line", one of the most-seen
// fingerprints.
type NoisyFingerprint struct {
	Sightings int
	// Environment, Fingerprint and Title (its latest anomaly's) are
	// escaped.
	Environment, Fingerprint, Title string
	AnomalyID                       int64
	// Decision is the latest anomaly's decision ("Noise"); "" when
	// undecided. DecidedBy is who decided, mrkdwn built by opsbot (a
	// mention); Ticket a link to the ticket, or "".
	Decision, DecidedBy, Ticket string
}

// UndecidedAnomaly is the data of "noise.undecided.line", an open anomaly
// without a decision.
type UndecidedAnomaly struct {
	AnomalyID int64
	// Environment and Title are escaped; OpenedAt is formatted by opsbot
	// (UTC).
	Environment, Title, OpenedAt string
	SeenCount                    int64
}

// MistriageRate is the data of "noise.mistriage": Mistriaged of the
// Decided anomalies decided Noise or Intermittent in the period later
// became Serious or an incident (Percent, rounded).
type MistriageRate struct {
	Mistriaged, Decided, Percent int
}

// FiredAlert is the data of "noise.alerts.line", an alert that fired in
// Runs of the period's checklist runs.
type FiredAlert struct {
	Runs int
	// Environment, Fingerprint and Title are escaped; Source says where
	// the alert was seen ("Alertmanager", "alerts channel").
	Environment, Source, Fingerprint, Title string
	// Count is how many alerts (or posts) its latest finding counted; 0
	// when it did not count.
	Count int
}

// NoiseSilence is the data of "noise.silence.line", the silence of an
// anomaly's decision.
type NoiseSilence struct {
	AnomalyID int64
	// Environment, Title, ID and Matchers are escaped; Until is formatted
	// by opsbot (UTC). Matchers is empty when not shown.
	Environment, Title, ID, Until, Matchers string
	Extensions                              int
}

// Unchecked is the data of "noise.unchecked": the environments whose
// silences could not be checked, and why, escaped.
type Unchecked struct {
	Text string
}

// MistriagedAnomaly is the data of "noise.mistriage.line", one mis-triaged
// anomaly.
type MistriagedAnomaly struct {
	AnomalyID int64
	// From is the first decision ("Noise"); Became is what it became
	// ("Serious", "incident #3"); At when (UTC), formatted by opsbot.
	From, Became, At string
}

// SilenceMatchers is the decision modal's line saying what a Noise
// decision's silence will match.
type SilenceMatchers struct {
	// Matchers are the silence's matchers in Alertmanager's syntax,
	// escaped; empty when Problem says why there are none.
	Matchers string
	// Widened are the matchers when the silence is widened to every
	// namespace, escaped; empty when that changes nothing.
	Widened string
	// Problem says, escaped, why the alert cannot be silenced as it is.
	Problem string
}

// Silenced is a silence made (or expired) for a Noise decision.
type Silenced struct {
	// AnomalyID is the anomaly's number.
	AnomalyID int64
	// ID is the silence's Alertmanager id, escaped.
	ID string
	// Until is when the silence ends, formatted by Slack's date token.
	Until string
	// Matchers are its matchers in Alertmanager's syntax, escaped.
	Matchers string
	// By is who expired it, "@alice", escaped ("triage.silenceExpired").
	By string
	// Extended counts the times it was extended ("triage.silenced").
	Extended int
}

// SilenceEnded is a Noise decision's silence seen ended: expired by a
// person, or ran out.
type SilenceEnded struct {
	// AnomalyID is the anomaly's number.
	AnomalyID int64
	// ID is the silence's Alertmanager id, escaped.
	ID string
	// At is when opsbot saw it end, formatted.
	At string
	// By is who expired it, "@alice", escaped; empty when it ran out.
	By string
	// RanOut: it ended by itself.
	RanOut bool
	// Extended counts the times it was extended.
	Extended int
}

// SilenceFailed says a Noise decision's silence could not be made.
type SilenceFailed struct {
	// AnomalyID is the anomaly's number.
	AnomalyID int64
	// Reason is the error, escaped.
	Reason string
}

// BadQuery is the data of "history.badQuery", a search that cannot be run.
type BadQuery struct {
	// Reason says what is wrong and what to write instead (escaped).
	Reason string
}

// HistoryQuery is the data of "history.header" and "history.none": what
// was searched for and how many anomalies match.
type HistoryQuery struct {
	// Query is what was typed, cut and escaped.
	Query string
	// Total is how many anomalies match; Shown how many are listed.
	Total, Shown int
}

// HistoryHit is the data of "history.line", an anomaly found.
type HistoryHit struct {
	AnomalyID int64
	// Environment, Title and Conclusion (shortened) are escaped.
	Environment, Title, Conclusion string
	// Decision is the decision's label ("Noise"); "" when undecided.
	// DecidedBy is who decided, mrkdwn built by opsbot (a mention).
	Decision, DecidedBy string
	// At is when it was decided (opened, when undecided), formatted by
	// opsbot (UTC).
	At string
	// Ticket and Thread are links, or "". HasThread: it has a thread
	// (when Thread is "", Slack gave no link to it).
	Ticket, Thread string
	HasThread      bool
}

// --- the handover: /ops handover, the schedule, the App Home tab -----------

// HandoverHeader is the data of "handover.header" and "handover.home".
type HandoverHeader struct {
	// Mention is who comes on shift ("<!subteam^S0123>", "<@U0123>"),
	// built by the bot from configuration, or "".
	Mention string
	// At is when the handover was read, Until when the shift ends,
	// formatted like Announce.From.
	At, Until string
	// By is who asked for it ("@alice", escaped), "" for the schedule.
	By string
}

// HandoverAnomaly is the data of "handover.anomaly": an open anomaly, or
// one resolved since the last handover.
type HandoverAnomaly struct {
	ID int64
	// Title (one line, cut) and Environment are escaped.
	Title, Environment string
	// Decision is its decision's label; "" when undecided.
	Decision string
	// Age is how long it has been open ("3d 4h"); "" for a resolved one.
	Age string
	// Owner is who is looking ("@alice", escaped); "" for nobody.
	Owner string
	// Thread is a link to its thread, mrkdwn built by opsbot, or "".
	Thread string
}

// HandoverIncident is the data of "handover.incident": an open incident.
type HandoverIncident struct {
	ID int64
	// Environment and What are escaped; What is on one line, cut.
	Environment, What string
	// From is when the user impact started, formatted like Announce.From.
	From string
	// StatusPage is its state on the status page ("open", "pending",
	// "skipped"); "" when it is not raised there.
	StatusPage string
}

// HandoverSilence is the data of "handover.silence": a Noise decision's
// silence ending during the shift.
type HandoverSilence struct {
	AnomalyID int64
	// Title and Environment are escaped.
	Title, Environment string
	// Ends is when it ends, formatted like Announce.From.
	Ends string
}

// HandoverNear is the data of "handover.near": an Intermittent anomaly
// close to escalation.
type HandoverNear struct {
	AnomalyID int64
	// Title and Environment are escaped.
	Title, Environment string
	// Sightings of Threshold within Window ("7d") escalate it.
	Sightings, Threshold int
	Window               string
}

// HandoverChecklist is the data of "handover.checklist": the last run.
type HandoverChecklist struct {
	// Environment is escaped; "" when there was no run.
	Environment string
	// At is when it finished, formatted like Announce.From.
	At string
	// By is who asked ("@alice", escaped; "the schedule"), "" when not known.
	By string
	// Status is its overall status ("fail"); "" when not known.
	Status   string
	Findings int
}

// HandoverChanges is the data of "handover.changes": what changed since
// the last handover.
type HandoverChanges struct {
	// Since is the last handover's time, formatted like Announce.From;
	// "" when there was none (the day before).
	Since string
	// New is how many fingerprints were first found, Resolved how many
	// anomalies were closed.
	New, Resolved int
}

// HandoverFingerprint is the data of "handover.new": a fingerprint first
// found since the last handover.
type HandoverFingerprint struct {
	// Environment and Title are escaped.
	Environment, Title string
	// FirstSeen is formatted like Announce.From.
	FirstSeen string
}

// HandoverAck is the data of "handover.acknowledged",
// "handover.alreadyAcknowledged" and "handover.previous" (By "": nobody
// took it over).
type HandoverAck struct {
	// By is who took over ("@alice", escaped); At when, formatted like
	// Announce.From.
	By, At string
}

// Channel is the data of "handover.posted".
type Channel struct {
	// Channel is a channel's mention ("<#C0123>"), built by the bot.
	Channel string
}
