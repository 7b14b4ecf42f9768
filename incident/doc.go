// Package incident is the runbook's incident procedure for a user-impacting
// problem:
//
//  1. announce it in the main channel with the runbook's template
//     ("📟 Degraded service / From / User impact / What / Investigation in
//     progress.");
//  2. raise it on the status page;
//  3. keep it up to date in the announcement's thread;
//  4. when it is over, edit the announcement to append "✅ Resolved" and
//     "Until: {time}" (the original text stays as it was), post a closing
//     line with the duration in the thread, and resolve the status page
//     incident. Resolving twice changes nothing.
//
// The package holds the domain types (Incident, Update, the append-only
// timeline), their validation, the formatting of times and durations, the
// Store interface (implemented by store/sqlite and store/postgres through
// the shared store package) and Service, which runs the procedure against
// three small interfaces it owns: Store, Announcer (Slack: post, edit,
// reply; the bot implements it) and StatusPageClient (create, update,
// resolve, find by key, in this package's types; the statuspage package
// implements it). It imports none of its adapters.
//
// Desk is what a front end (the Slack bot) uses: a Service per environment
// with that environment's status page, and the rules that pick the
// incident a command is about (Target, UpdateTarget: the one open
// incident, the one named, or why there is none) and keep one open
// incident per anomaly (OpenForAnomaly). What people type is read here
// too: ParseRef ("#12"), ParseResolveArgs and ParseClock ("14:05" is the
// latest 14:05 not ahead of now). Results and refusals are typed
// (ResolveOutcome, FinishOutcome, UntilError, NotFoundError...): the
// front end renders them and decides nothing.
//
// # Failure and retries
//
// Every step is recorded before or after it is done, so a step interrupted
// by a crash or an error is finished by calling the same Service method
// again with the same idempotency key (see Service). The incident is
// recorded before its announcement is posted, and the announcement (whose
// ts Slack gives only once it is posted) recorded right after: an
// announcement whose record fails is deleted again, so that none stays in
// Slack without its incident knowing it. A store failure comes back
// wrapped with opsbot.ErrNotRecorded. A status page failure
// never blocks or loses the Slack announcement: it is recorded on the
// incident (StatusPage.LastError and a statuspage_failed timeline entry,
// retryable or not) and Service.RetryStatusPage tries again; the status
// page incident is created with the incident's stable key
// ("opsbot-incident-<id>"), so a retried create finds the incident a lost
// answer created instead of making a second one.
//
// # Times
//
// Times are read and shown in the configured location (the bot's time
// zone). They are shown with FormatTime's layout,
// "2006-01-02 15:04 MST": "2026-11-24 09:30 GMT" (or "BST" in the British
// summer). Durations are shown by FormatDuration: "1h 25m".
//
// This package knows neither Slack's API nor SQL. Text for Slack is
// rendered by the templates package; untrusted text is escaped by the
// Escape function the bot gives the Service.
package incident
