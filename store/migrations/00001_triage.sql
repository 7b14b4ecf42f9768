-- Anomalies, their decisions and their append-only timeline.
--
-- One migration set for SQLite and PostgreSQL, so only portable SQL:
--   * times are BIGINT Unix nanoseconds, UTC (no dialect's date type);
--   * ids are assigned by opsbot from id_counters (no SERIAL, IDENTITY or
--     AUTOINCREMENT, which differ between the two), inside the transaction
--     that inserts the row;
--   * JSON is TEXT; booleans are BOOLEAN (SQLite stores 0/1).
-- Read a time in psql with to_timestamp(opened_at / 1e9), in sqlite3 with
-- datetime(opened_at / 1000000000, 'unixepoch').

-- +goose Up
CREATE TABLE id_counters (
    name    TEXT PRIMARY KEY,
    last_id BIGINT NOT NULL
);
INSERT INTO id_counters (name, last_id) VALUES ('anomalies', 0);

CREATE TABLE anomalies (
    id           BIGINT PRIMARY KEY,
    environment  TEXT   NOT NULL,
    fingerprint  TEXT   NOT NULL,
    title        TEXT   NOT NULL,
    detail       TEXT   NOT NULL DEFAULT '',
    link         TEXT   NOT NULL DEFAULT '',
    source       TEXT   NOT NULL CHECK (source IN ('checklist', 'manual')),
    opened_by    TEXT   NOT NULL,
    opened_at    BIGINT NOT NULL,
    channel      TEXT   NOT NULL DEFAULT '',
    thread_ts    TEXT   NOT NULL DEFAULT '',
    state        TEXT   NOT NULL CHECK (state IN ('open', 'closed')),
    escalated_at BIGINT,
    version      BIGINT NOT NULL CHECK (version >= 1),
    seen_count   BIGINT NOT NULL CHECK (seen_count >= 1),
    last_seen_at BIGINT NOT NULL,
    -- The current decision (NULL until the first); the timeline has them all.
    decision       TEXT CHECK (decision IN ('not_enough_information', 'intermittent',
                                            'serious', 'noise', 'undetermined')),
    conclusion     TEXT    NOT NULL DEFAULT '',
    five_whys      TEXT    NOT NULL DEFAULT '',
    ticket         TEXT    NOT NULL DEFAULT '',
    users_affected TEXT    NOT NULL DEFAULT '',
    outage         BOOLEAN NOT NULL DEFAULT FALSE,
    to_collect     TEXT    NOT NULL DEFAULT '',
    dashboard      TEXT    NOT NULL DEFAULT '',
    decided_by     TEXT    NOT NULL DEFAULT '',
    decided_at     BIGINT
);

-- At most one open anomaly per (environment, fingerprint): two "Investigate"
-- clicks at once cannot open two.
CREATE UNIQUE INDEX anomalies_one_open ON anomalies (environment, fingerprint) WHERE state = 'open';
-- Sightings find the latest anomaly of a fingerprint.
CREATE INDEX anomalies_by_fingerprint ON anomalies (environment, fingerprint, id);
-- /ops status lists the open ones.
CREATE INDEX anomalies_by_state ON anomalies (state, environment, opened_at);

-- Who did what when, append-only. seq is the anomaly's version after the
-- entry: 1, 2, 3... with no gaps.
CREATE TABLE timeline (
    anomaly_id      BIGINT NOT NULL REFERENCES anomalies (id),
    seq             BIGINT NOT NULL CHECK (seq >= 1),
    occurred_at     BIGINT NOT NULL,
    actor           TEXT   NOT NULL,
    kind            TEXT   NOT NULL,
    data            TEXT   NOT NULL DEFAULT '{}',
    idempotency_key TEXT,
    PRIMARY KEY (anomaly_id, seq)
);

-- A retried Slack delivery cannot write twice. NULL (no key) is not unique.
CREATE UNIQUE INDEX timeline_idempotency_key ON timeline (idempotency_key);

-- +goose Down
DROP TABLE timeline;
DROP TABLE anomalies;
DROP TABLE id_counters;
