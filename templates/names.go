package templates

// Every template, declared once: its name (its file is
// defaults/<name>.tmpl) and its data type. A new text is one line here, one
// file in defaults/ and, when no type here carries its data, one type in
// data.go; New checks it from then on.

// The names of the templates the incident Service renders through
// Set.Render, by name.
const (
	IncidentAnnounce       = "incident.announce"
	IncidentResolvedSuffix = "incident.resolved_suffix"
	IncidentUpdate         = "incident.update"
	IncidentClosing        = "incident.closing"

	FollowUpNotEnoughInformation = "triage.followup.not_enough_information"
	FollowUpIntermittent         = "triage.followup.intermittent"
	FollowUpSerious              = "triage.followup.serious"
	FollowUpNoise                = "triage.followup.noise"
	FollowUpUndetermined         = "triage.followup.undetermined"

	ChecklistScheduledIntro = "checklist.scheduled_intro"
)

// The runbook's incident messages, posted in the incident channel and the
// incident's thread by the incident Service.
var (
	IncidentAnnounceText       = declare[Announce](IncidentAnnounce)
	IncidentResolvedSuffixText = declare[ResolvedSuffix](IncidentResolvedSuffix)
	IncidentUpdateText         = declare[Update](IncidentUpdate)
	IncidentClosingText        = declare[Closing](IncidentClosing)
)

// The follow-ups of the decisions, in the anomaly's thread. The bot finds
// a decision's with Lookup[FollowUp]("triage.followup." + its key).
var (
	FollowUpNotEnoughInformationText = declare[FollowUp](FollowUpNotEnoughInformation)
	FollowUpIntermittentText         = declare[FollowUp](FollowUpIntermittent)
	FollowUpSeriousText              = declare[FollowUp](FollowUpSerious)
	FollowUpNoiseText                = declare[FollowUp](FollowUpNoise)
	FollowUpUndeterminedText         = declare[FollowUp](FollowUpUndetermined)
	// TriageFollowUpRunbook is shown instead of a follow-up that renders
	// empty.
	TriageFollowUpRunbook = declare[FollowUp]("triage.followup.runbook")
)

// /ops itself.
var (
	OpsUsage   = declare[Usage]("ops.usage")
	OpsUnknown = declare[Command]("ops.unknown")
	// OpsError is what a user reads when something failed (the details
	// are in the logs).
	OpsError                = declare[NoData]("ops.error")
	OpsRefused              = declare[Refused]("ops.refused")
	OpsNotHere              = declare[NotHere]("ops.notHere")
	OpsBusy                 = declare[NoData]("ops.busy")
	OpsNoArguments          = declare[NoData]("ops.noArguments")
	OpsAtMostOneEnvironment = declare[Command]("ops.atMostOneEnvironment")
	// OpsDirectionControl refuses a command containing a character that
	// changes the direction of text.
	OpsDirectionControl = declare[Character]("ops.directionControl")
)

// The checklist: /ops checklist and the scheduled run.
var (
	ChecklistScheduledIntroText = declare[ChecklistIntro](ChecklistScheduledIntro)
	ChecklistScheduledBy        = declare[NoData]("checklist.scheduledBy")
	ChecklistRunning            = declare[Running]("checklist.running")
	ChecklistCheckWaiting       = declare[Check]("checklist.check.waiting")
	ChecklistTitle              = declare[Report]("checklist.title")
	ChecklistSummary            = declare[Report]("checklist.summary")
	ChecklistMore               = declare[Count]("checklist.more")
	ChecklistCost               = declare[RunCost]("checklist.cost")
	ChecklistTruncated          = declare[Env]("checklist.truncated")
	ChecklistUnsaved            = declare[NoData]("checklist.unsaved")
	// ChecklistKnownNoise is the report's line counting the findings
	// suppressed as known noise; ChecklistKnownNoiseList heads their list
	// in the report's thread, a ChecklistKnownNoiseLine each.
	ChecklistKnownNoise     = declare[Count]("checklist.knownNoise")
	ChecklistKnownNoiseList = declare[Count]("checklist.knownNoise.list")
	ChecklistKnownNoiseLine = declare[KnownNoise]("checklist.knownNoise.line")
	// ChecklistGrew marks a finding reported again because it grew past
	// the decision that covered it.
	ChecklistGrew               = declare[KnownNoise]("checklist.grew")
	ChecklistTimedOut           = declare[NoData]("checklist.timedOut")
	ChecklistCancelled          = declare[NoData]("checklist.cancelled")
	ChecklistStale              = declare[NoData]("checklist.stale")
	ChecklistNotInChannel       = declare[NoData]("checklist.notInChannel")
	ChecklistUnknownEnvironment = declare[UnknownEnvironment]("checklist.unknownEnvironment")
	ChecklistWhichEnvironment   = declare[NoData]("checklist.whichEnvironment")
)

// Anomalies and decisions: the root message, the decision modal, the
// thread's replies, the answers.
var (
	TriageLooking          = declare[Anomaly]("triage.looking")
	TriageOutcome          = declare[Outcome]("triage.outcome")
	TriageOutcomeNone      = declare[NoData]("triage.outcome.none")
	TriageEscalatedNote    = declare[Escalated]("triage.escalatedNote")
	TriageDecidePrompt     = declare[NoData]("triage.decidePrompt")
	TriageOpened           = declare[Anomaly]("triage.opened")
	TriageExisting         = declare[Anomaly]("triage.existing")
	TriageInvalid          = declare[Problem]("triage.invalid")
	TriageNeedsTitle       = declare[NoData]("triage.needsTitle")
	TriageTitleTooLong     = declare[TooLong]("triage.titleTooLong")
	TriageStale            = declare[Anomaly]("triage.stale")
	TriageModalExpired     = declare[NoData]("triage.modalExpired")
	TriageDecisionConflict = declare[Anomaly]("triage.decisionConflict")
	TriageDecided          = declare[Decided]("triage.decided")
	TriageModalIntro       = declare[DecisionForm]("triage.modal.intro")
	// TriageCut ends a field cut in a thread reply.
	TriageCut       = declare[NoData]("triage.cut")
	TriageSeenAgain = declare[Recurrence]("triage.seenAgain")
	TriageEscalate  = declare[Recurrence]("triage.escalate")
	// TriageLastTime is the line under a finding (the report, an
	// anomaly's root message) whose fingerprint was decided before;
	// TriageModalPrefilled says the decision form is filled from it.
	TriageLastTime       = declare[LastTime]("triage.lastTime")
	TriageModalPrefilled = declare[LastTime]("triage.modal.prefilled")
	// TriageTip is a runbook tip under a finding it matches.
	TriageTip = declare[Tip]("triage.tip")

	// `/ops tip`: the answers to adding, listing and removing tips.
	TipAdded       = declare[Tip]("tip.added")
	TipRemoved     = declare[Tip]("tip.removed")
	TipListHeader  = declare[Count]("tip.list.header")
	TipListLine    = declare[Tip]("tip.list.line")
	TipNone        = declare[NoData]("tip.none")
	TipUsage       = declare[NoData]("tip.usage")
	TipRemoveWhich = declare[NoData]("tip.removeWhich")
	TipNotFound    = declare[Tip]("tip.notFound")
	TipInvalid     = declare[Problem]("tip.invalid")
	TipTooMany     = declare[Count]("tip.tooMany")
	TipNotRecorded = declare[NoData]("tip.notRecorded")

	// The decision modal's hints and its outage checkbox.
	TriageHintConclusion    = declare[NoData]("triage.hint.conclusion")
	TriageHintFiveWhys      = declare[NoData]("triage.hint.fiveWhys")
	TriageHintUsersAffected = declare[NoData]("triage.hint.usersAffected")
	TriageHintToCollect     = declare[NoData]("triage.hint.toCollect")
	TriageHintDashboard     = declare[NoData]("triage.hint.dashboard")
	TriageHintSilenceUntil  = declare[NoData]("triage.hint.silenceUntil")
	TriageOptionOutage      = declare[NoData]("triage.option.outage")

	// A Noise decision's silence: the modal's matchers line and widen
	// checkbox, and the thread's replies.
	TriageSilenceMatchers = declare[SilenceMatchers]("triage.silence.matchers")
	TriageOptionWiden     = declare[NoData]("triage.option.widen")
	TriageSilenced        = declare[Silenced]("triage.silenced")
	TriageSilenceFailed   = declare[SilenceFailed]("triage.silenceFailed")
	TriageSilenceExpired  = declare[Silenced]("triage.silenceExpired")
	TriageNoSilence       = declare[Anomaly]("triage.noSilence")
	TriageSilenceEnded    = declare[SilenceEnded]("triage.silenceEnded")
	TriageNotExtended     = declare[SilenceFailed]("triage.silenceNotExtended")
)

// /ops status.
var (
	StatusNone   = declare[NoData]("status.none")
	StatusHeader = declare[Count]("status.header")
	StatusLine   = declare[OpenAnomaly]("status.line")
)

// /ops noise: the noise report.
var (
	NoiseNotSetUp        = declare[NoData]("noise.notSetUp")
	NoiseBadDays         = declare[BadDays]("noise.badDays")
	NoiseHeader          = declare[NoisePeriod]("noise.header")
	NoiseDay             = declare[DaySightings]("noise.day")
	NoiseTopHeader       = declare[NoData]("noise.top.header")
	NoiseTopNone         = declare[NoData]("noise.top.none")
	NoiseTopLine         = declare[NoisyFingerprint]("noise.top.line")
	NoiseUndecidedHeader = declare[Count]("noise.undecided.header")
	NoiseUndecidedLine   = declare[UndecidedAnomaly]("noise.undecided.line")
	NoiseMistriage       = declare[MistriageRate]("noise.mistriage")
	NoiseMistriageLine   = declare[MistriagedAnomaly]("noise.mistriage.line")
	NoiseNotCovered      = declare[NoData]("noise.notCovered")
	NoiseAlertsHeader    = declare[NoData]("noise.alerts.header")
	NoiseAlertsNone      = declare[NoData]("noise.alerts.none")
	NoiseAlertsLine      = declare[FiredAlert]("noise.alerts.line")
	NoiseStaleHeader     = declare[Count]("noise.stale.header")
	NoiseExtendedHeader  = declare[Count]("noise.extended.header")
	NoiseSilenceLine     = declare[NoiseSilence]("noise.silence.line")
	NoiseUnchecked       = declare[Unchecked]("noise.unchecked")
)

// /ops history: the search of past investigations.
var (
	HistoryNotSetUp = declare[NoData]("history.notSetUp")
	HistoryBadQuery = declare[BadQuery]("history.badQuery")
	HistoryNone     = declare[HistoryQuery]("history.none")
	HistoryHeader   = declare[HistoryQuery]("history.header")
	HistoryLine     = declare[HistoryHit]("history.line")
)

// Incidents: /ops incident, update and resolve, the announcement modal,
// the Announce incident and Retry buttons.
var (
	IncidentNotSetUp          = declare[NoData]("incident.notSetUp")
	IncidentWhichEnvironment  = declare[NoData]("incident.whichEnvironment")
	IncidentModalExpired      = declare[NoData]("incident.modalExpired")
	IncidentModalIntro        = declare[AnnounceForm]("incident.modal.intro")
	IncidentHintFrom          = declare[NoData]("incident.hint.from")
	IncidentHintUserImpact    = declare[NoData]("incident.hint.userImpact")
	IncidentHintWhat          = declare[NoData]("incident.hint.what")
	IncidentFormRequired      = declare[NoData]("incident.form.required")
	IncidentFormNotATime      = declare[DateTime]("incident.form.notATime")
	IncidentAnnounced         = declare[Incident]("incident.announced")
	IncidentOnStatusPage      = declare[NoData]("incident.onStatusPage")
	IncidentAlreadyForAnomaly = declare[Incident]("incident.alreadyForAnomaly")
	IncidentLinkedInThread    = declare[Incident]("incident.linkedInThread")
	IncidentAnnouncementLink  = declare[AnnouncementLink]("incident.announcementLink")
	IncidentInvalid           = declare[Problem]("incident.invalid")
	IncidentPostFailed        = declare[Incident]("incident.postFailed")
	IncidentEditFailed        = declare[Incident]("incident.editFailed")
	IncidentEdited            = declare[Incident]("incident.edited")
	IncidentSlackReason       = declare[SlackReason]("incident.slackReason")
	IncidentNothingLeft       = declare[Incident]("incident.nothingLeft")

	IncidentStatusPageFailed = declare[Problem]("incident.statusPageFailed")
	IncidentStatusPageDone   = declare[Incident]("incident.statusPageDone")
	IncidentNoStatusPage     = declare[Env]("incident.noStatusPage")

	IncidentNotFound    = declare[Incident]("incident.notFound")
	IncidentNotOpen     = declare[Incident]("incident.notOpen")
	IncidentNoneOpen    = declare[NoData]("incident.noneOpen")
	IncidentLine        = declare[Incident]("incident.line")
	IncidentNotIDOrTime = declare[BadInput]("incident.notIdOrTime")
	IncidentNotATime    = declare[BadInput]("incident.notATime")

	IncidentUpdateNeedsText        = declare[Incident]("incident.updateNeedsText")
	IncidentWhichUpdate            = declare[Count]("incident.whichUpdate")
	IncidentUpdated                = declare[Incident]("incident.updated")
	IncidentUpdateOnStatusPage     = declare[NoData]("incident.updateOnStatusPage")
	IncidentUpdateStatusPageFailed = declare[Problem]("incident.updateStatusPageFailed")
	IncidentUpdateInvalid          = declare[Problem]("incident.updateInvalid")

	IncidentResolveTooManyArgs   = declare[NoData]("incident.resolveTooManyArgs")
	IncidentWhichResolve         = declare[Count]("incident.whichResolve")
	IncidentResolved             = declare[Incident]("incident.resolved")
	IncidentResolvedOnStatusPage = declare[NoData]("incident.resolvedOnStatusPage")
	IncidentAlreadyResolved      = declare[Incident]("incident.alreadyResolved")
	IncidentWasResolved          = declare[Incident]("incident.wasResolved")
	IncidentUntilBeforeFrom      = declare[Incident]("incident.untilBeforeFrom")
	IncidentUntilFuture          = declare[Incident]("incident.untilFuture")
)

// A write that matters could not be recorded (the store failed): nothing
// was posted, the user is told.
var (
	TriageNotRecorded         = declare[NoData]("triage.notRecorded")
	TriageDecisionNotRecorded = declare[Anomaly]("triage.decisionNotRecorded")
	IncidentNotRecorded       = declare[Incident]("incident.notRecorded")
)

// The handover: /ops handover, the scheduled handover, the App Home tab,
// the Acknowledge handover button.
var (
	HandoverHeaderText        = declare[HandoverHeader]("handover.header")
	HandoverHome              = declare[HandoverHeader]("handover.home")
	HandoverAnomalies         = declare[Count]("handover.anomalies")
	HandoverAnomalyLine       = declare[HandoverAnomaly]("handover.anomaly")
	HandoverIncidents         = declare[Count]("handover.incidents")
	HandoverIncidentLine      = declare[HandoverIncident]("handover.incident")
	HandoverSilences          = declare[Count]("handover.silences")
	HandoverSilenceLine       = declare[HandoverSilence]("handover.silence")
	HandoverNearEscalation    = declare[Count]("handover.nearEscalation")
	HandoverNearLine          = declare[HandoverNear]("handover.near")
	HandoverChecklistLine     = declare[HandoverChecklist]("handover.checklist")
	HandoverChangesHeader     = declare[HandoverChanges]("handover.changes")
	HandoverNewLine           = declare[HandoverFingerprint]("handover.new")
	HandoverResolvedLine      = declare[HandoverAnomaly]("handover.resolved")
	HandoverAcknowledgeButton = declare[NoData]("handover.acknowledge")
	HandoverAcknowledged      = declare[HandoverAck]("handover.acknowledged")
	HandoverAlreadyTaken      = declare[HandoverAck]("handover.alreadyAcknowledged")
	HandoverGone              = declare[NoData]("handover.gone")
	// HandoverPrevious says who took the last handover over (the
	// rotation's current holder, on the Home tab).
	HandoverPrevious = declare[HandoverAck]("handover.previous")
	// HandoverPosted tells who ran /ops handover elsewhere where it went.
	HandoverPosted   = declare[Channel]("handover.posted")
	HandoverNotSetUp = declare[NoData]("handover.notSetUp")
)
