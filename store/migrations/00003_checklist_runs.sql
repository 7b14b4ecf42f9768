-- Checklist runs and their findings, so that a report's Investigate buttons
-- (whose value is "<run id>/<finding index>") work after a restart and on
-- any replica.
--
-- Portable SQL, as in 00001: BIGINT Unix-nanosecond times (UTC), ids from
-- id_counters, JSON as TEXT.
--
-- Retention: runs are kept 30 days (store.RunRetention). Every SaveRun
-- deletes the runs (and their findings) saved longer ago than that, in its
-- own transaction, and RunFinding does not return them even before they
-- are deleted.

-- +goose Up
INSERT INTO id_counters (name, last_id) VALUES ('checklist_runs', 0);

CREATE TABLE checklist_runs (
    id          BIGINT PRIMARY KEY,
    environment TEXT   NOT NULL,
    -- The report's message ('' when not known).
    channel     TEXT   NOT NULL DEFAULT '',
    message_ts  TEXT   NOT NULL DEFAULT '',
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    -- When the store saved it (the store's clock): what retention goes by.
    saved_at    BIGINT NOT NULL
);

-- Retention deletes by age.
CREATE INDEX checklist_runs_by_saved_at ON checklist_runs (saved_at);

-- A run's findings in report order (idx 0, 1, 2...: the findings of the
-- report's first check, then its second...). finding_json is a
-- checks.Finding as JSON; fingerprint is a copy for queries.
CREATE TABLE checklist_findings (
    run_id       BIGINT NOT NULL REFERENCES checklist_runs (id),
    idx          BIGINT NOT NULL CHECK (idx >= 0),
    fingerprint  TEXT   NOT NULL,
    finding_json TEXT   NOT NULL,
    PRIMARY KEY (run_id, idx)
);

-- +goose Down
DROP TABLE checklist_findings;
DROP TABLE checklist_runs;
DELETE FROM id_counters WHERE name = 'checklist_runs';
