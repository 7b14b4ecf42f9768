-- An escalation is pending until its mention is posted in the anomaly's
-- thread: the next checklist run posts what a failure left unposted. A
-- replica takes the posting with a lease (holder, lease end in Unix
-- nanoseconds), so two replicas do not both post it.
--
-- Portable SQL, as in 00002.

-- +goose Up
ALTER TABLE anomalies ADD COLUMN escalation_pending BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE anomalies ADD COLUMN escalation_holder TEXT NOT NULL DEFAULT '';
ALTER TABLE anomalies ADD COLUMN escalation_lease BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE anomalies DROP COLUMN escalation_lease;
ALTER TABLE anomalies DROP COLUMN escalation_holder;
ALTER TABLE anomalies DROP COLUMN escalation_pending;
