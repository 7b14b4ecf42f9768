// Package triage is the runbook's second half: what happens to an anomaly once
// the checklist (or a person) has found it.
//
// Each anomaly is investigated in a Slack thread and closed with one of five
// decisions, each with its follow-up:
//
//	Not enough information  what extra information to collect; tickets
//	Intermittent            nothing now; escalate if it happens again
//	Serious                 how many users are affected and how; if it is an
//	                        outage, announce an incident
//	Noise                   eliminate it in code/integrations; make sure it is
//	                        on a dashboard; tickets
//	Undetermined            collaborate with others to decide
//
// Everything is recorded on an append-only timeline (who did what when), so
// the next person can find it. A decision can be changed later; the timeline
// keeps every one.
//
// # Open and closed
//
// An anomaly is Open while it still needs someone's attention: it has no
// decision yet, its decision is NotEnoughInformation or Undetermined (both
// mean "not finished"), or it was escalated after its decision (an
// Intermittent anomaly that kept coming back). Intermittent, Serious and Noise
// close it. `/ops status` lists the open anomalies. At most one anomaly per
// (environment, fingerprint) is open at a time, so clicking "Investigate"
// twice leads to the same thread.
//
// # Recurrence
//
// The checklist reports each sighting of a known fingerprint
// (Store.RecordSighting). RecurrencePolicy.Evaluate turns an anomaly and its
// timeline into a Recurrence ("seen again, 3rd time since 2 Jan") and says
// when an Intermittent anomaly has come back often enough to be escalated;
// Observe does the three steps (record, evaluate, escalate) idempotently.
//
// # Known noise
//
// A sighting records how big the finding is (Magnitude: its Count), and a
// decision records the size it had then. RecurrencePolicy.Covers says
// whether a standing decision covers a finding seen again: Noise while it
// stands, Intermittent within Window, neither once escalated, and not once
// the finding grew to Growth (10) times its size when decided.
// ObserveFindings returns them (Sightings.Known), and the checklist leaves
// the covered ones out of its report as known noise.
//
// # The service
//
// Service runs the use-cases on top of the Store: Open (an anomaly and its
// one thread, however many replicas post one at once), Decide (record, then
// reply in the thread and update its root message), ObserveFindings (the
// sightings of a checklist run's findings, and which to announce) and
// Announce. It tells the threads through Threads, a port the Slack adapter
// implements; FindingAnomaly and ManualAnomaly make the anomaly to open
// from a checklist finding or a title typed by hand.
//
// # What is recorded before what is posted
//
// Nothing is posted in Slack without the record that it belongs to, and a
// failure or a shutdown half-way leaves no post without its record:
//
//   - Open records the anomaly first (with no thread: "pending"), then
//     posts its root message, then records the link to it. The root
//     message's ts is only known once it is posted, hence that order. When
//     the link cannot be recorded, the root message is deleted; the anomaly
//     stays pending, and opening it again (the same click redelivered, or
//     another) posts its one thread.
//   - Decide records the decision (one transaction) before it replies in
//     the thread and updates the root message. A decision that cannot be
//     recorded posts nothing.
//
// A store failure comes back wrapped with opsbot.ErrNotRecorded, for the
// bot to tell the user that nothing was recorded nor posted.
//
// This package is pure Go: it knows neither Slack nor SQL. Persistence is the
// Store interface, implemented by store/sqlite and store/postgres.
package triage
