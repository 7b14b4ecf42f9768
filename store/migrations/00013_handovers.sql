-- The handover of the ops rotation (issue 12): each handover posted (by
-- `/ops handover` or the schedule), who took over (the Acknowledge
-- handover button), and what the next handover's "since the last
-- handover" starts from. The checklist runs also keep who asked for them
-- and their overall status, for the handover's "last checklist".
--
-- Portable SQL, as in 00001: BIGINT Unix-nanosecond times (UTC), ids from
-- id_counters.

-- +goose Up
INSERT INTO id_counters (name, last_id) VALUES ('handovers', 0);

CREATE TABLE handovers (
    id              BIGINT PRIMARY KEY,
    at              BIGINT NOT NULL,
    -- A Slack user id, or 'schedule'.
    by_actor        TEXT   NOT NULL,
    -- The message, once posted ('' before).
    channel         TEXT   NOT NULL DEFAULT '',
    message_ts      TEXT   NOT NULL DEFAULT '',
    -- Who took over ('' until someone did) and when.
    acknowledged_by TEXT   NOT NULL DEFAULT '',
    acknowledged_at BIGINT,
    -- The request that made it (Slack's ids, or the occurrence): the same
    -- request again records nothing more.
    idempotency_key TEXT   NOT NULL UNIQUE,
    CHECK ((acknowledged_by = '') = (acknowledged_at IS NULL))
);

-- The last handover is the latest by time.
CREATE INDEX handovers_by_at ON handovers (at, id);

-- Who asked for a checklist run (a Slack user id, or 'schedule'; '' for
-- runs saved before) and its overall status ('' for runs saved before).
ALTER TABLE checklist_runs ADD COLUMN asked_by TEXT NOT NULL DEFAULT '';
ALTER TABLE checklist_runs ADD COLUMN status TEXT NOT NULL DEFAULT '';

-- "Fingerprints first found since the last handover" looks each one up
-- in the runs before.
CREATE INDEX checklist_findings_by_fingerprint ON checklist_findings (fingerprint, run_id);

-- +goose Down
DROP INDEX checklist_findings_by_fingerprint;
ALTER TABLE checklist_runs DROP COLUMN status;
ALTER TABLE checklist_runs DROP COLUMN asked_by;
DROP TABLE handovers;
DELETE FROM id_counters WHERE name = 'handovers';
