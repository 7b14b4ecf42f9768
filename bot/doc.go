// Package bot is opsbot's Slack adapter: the Socket Mode loop and its
// supervision, the `/ops` command router, the interaction handlers (buttons
// and modals), and the Block Kit rendering of what the domain services
// answer. It translates Slack payloads into calls of triage.Service,
// incident.Desk and checklist.Run, and their results into messages; the
// rules themselves live in those packages.
//
// # Parts
//
// cmd/opsbot assembles the bot from parts it builds first:
//
//   - Slack (NewSlack) is the Web API client, shared by everything that
//     posts: the chat.update spacing, the names and permalinks learnt.
//   - NewThreads is triage.Threads on Slack: the anomalies' root messages
//     and thread replies; NewAnnouncer is incident.Announcer: the
//     runbook's announcement, its updates and its resolution.
//   - New takes the Slack client and the domain services; Run runs the
//     Socket Mode loop and the workers; ScheduledChecklist is the
//     scheduler's job.
//
// # How an envelope is handled
//
// The socket reads slack-go's Events channel and never blocks on work:
// slash commands and button clicks are acknowledged at once (Slack wants
// an ack within 3 seconds) and handed to the worker pool (checklist runs to
// a pool of their own, so that they never hold the workers of clicks and
// submissions). A modal submission's ack carries its validation errors, so
// it is validated first, on view workers that nothing else uses (long
// handlers cannot starve them), and acked by that worker; the work after
// the ack goes to the general pool. A timer the socket starts answers
// "busy, try again" if no ack was sent within 2 seconds of the arrival
// (validation hung, view workers all busy): exactly one ack per envelope.
// Envelopes of every other kind, slack-go's unparsable ones included, are
// acked by the socket too. Every handler runs through one adapter
// (Bot.adapt) that bounds it with a timeout, logs it, recovers panics and
// turns errors into an ephemeral "something went wrong" for the user,
// with the detail in the logs.
//
// # Supervision
//
// slack-go's RunContext reconnects by itself after dropped connections,
// missing pings and `disconnect` frames (refresh_requested, warning,
// too_many_websockets) and honours Retry-After on apps.connections.open;
// it returns only for invalid_auth, account_inactive, not_authed,
// token_revoked and HTTP 404, which stop the bot with an error. Around it
// the bot adds what the library lacks: a `link_disabled` disconnect (which
// never reaches Events; it is seen by a tap on the WebSocket's bytes) stops
// the bot cleanly, permanent errors such as missing_scope stop it instead
// of retrying forever, and connections that keep dying right after they
// open are restarted with exponential backoff and jitter.
//
// # Who may use it
//
// Before any handler sees it, a payload must name the bot's workspace, app
// and, when one is known, Enterprise Grid organization (Bot.untrusted), and
// come from an allowed channel (Options.AllowedChannels with the bot's own
// channels; direct messages only with AllowDirectMessages); a modal is
// judged by the channel it was opened from. Handlers then check the user
// is a decider (Bot.authorize). Every refusal is recorded once per request
// in Options.Refusals, from a worker, and counted (opsbot_refusals_total).
//
// # Text
//
// Untrusted text (finding titles and details from logs and alerts, pod
// names, what people type) reaches Slack only through Escape. The one
// mention opsbot emits is the ops group's, built by Mention from
// configuration. Every sentence comes from the templates package: handlers
// and renderers call say with a templates.Text (templates.TriageOpened)
// and its data, escaped where Escape, Link and Mention are called; only
// short labels (buttons, modal fields, link labels) are written here.
package bot
