// Package opsbot is the vocabulary the runbook's domain packages share:
// how an input is found invalid (ValidationError, Validator), the errors
// stores report (ErrNotFound, ErrConflict; ErrNotRecorded for their own
// failures), how text is made storable (CleanText), who "opsbot" is on a
// timeline (ActorBot) and what the audit record keeps of a refused request
// (Refusal).
//
// It sits at the centre of the house and imports nothing of it: triage
// (anomalies and the five decisions) and incident (announce, update,
// resolve) both build on it, and so do their stores and the Slack adapter,
// which maps a ValidationError's fields onto a modal's blocks the same way
// for both. See ARCHITECTURE.md for how the packages fit together.
package opsbot
