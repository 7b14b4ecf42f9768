-- Runbook tips (issue 12): a tip attached to a kind of finding, by a
-- pattern (a fingerprint, or a prefix of one by whole "/" segments, "*"
-- for any one segment: triage.TipMatches), shown under the findings it
-- matches in the report and in new anomaly threads. A removed tip is kept,
-- with who removed it and when; tip_timeline is its append-only history.
--
-- Portable SQL, as in 00001: BIGINT Unix-nanosecond times (UTC), ids from
-- id_counters, JSON as TEXT.

-- +goose Up
INSERT INTO id_counters (name, last_id) VALUES ('tips', 0);

CREATE TABLE tips (
    id         BIGINT PRIMARY KEY,
    pattern    TEXT   NOT NULL,
    text       TEXT   NOT NULL,
    author     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    -- NULL and '' while the tip is in force.
    removed_at BIGINT,
    removed_by TEXT   NOT NULL DEFAULT ''
);

-- Every report reads the tips in force.
CREATE INDEX tips_in_force ON tips (removed_at, id);

-- Who added and removed which tip, when. seq numbers a tip's entries 1, 2.
CREATE TABLE tip_timeline (
    tip_id          BIGINT NOT NULL REFERENCES tips (id),
    seq             BIGINT NOT NULL CHECK (seq >= 1),
    occurred_at     BIGINT NOT NULL,
    actor           TEXT   NOT NULL,
    kind            TEXT   NOT NULL,
    data            TEXT   NOT NULL DEFAULT '{}',
    idempotency_key TEXT,
    PRIMARY KEY (tip_id, seq)
);

-- A retried Slack delivery cannot write twice. NULL (no key) is not unique.
CREATE UNIQUE INDEX tip_timeline_idempotency_key ON tip_timeline (idempotency_key);

-- +goose Down
DROP TABLE tip_timeline;
DROP TABLE tips;
DELETE FROM id_counters WHERE name = 'tips';
