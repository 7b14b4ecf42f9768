-- Incidents (announce / update / resolve, the status page), their
-- append-only timeline, and the claims of scheduled occurrences.
--
-- Portable SQL, as in 00001: BIGINT Unix-nanosecond times (UTC), ids from
-- id_counters, JSON as TEXT, BOOLEAN.

-- +goose Up
INSERT INTO id_counters (name, last_id) VALUES ('incidents', 0);

CREATE TABLE incidents (
    id           BIGINT PRIMARY KEY,
    environment  TEXT   NOT NULL,
    -- The announcement: its channel, and its ts once posted ('' before).
    channel      TEXT   NOT NULL,
    message_ts   TEXT   NOT NULL DEFAULT '',
    from_at      BIGINT NOT NULL,
    user_impact  TEXT   NOT NULL,
    what         TEXT   NOT NULL,
    announced_by TEXT   NOT NULL,
    announced_at BIGINT NOT NULL,
    -- The triage anomaly it came from, if any.
    anomaly_id   BIGINT REFERENCES anomalies (id),
    -- The status page incident.
    statuspage_enabled    BOOLEAN NOT NULL DEFAULT FALSE,
    statuspage_state      TEXT    NOT NULL DEFAULT ''
        CHECK (statuspage_state IN ('', 'pending', 'open', 'resolved', 'skipped')),
    statuspage_id         TEXT    NOT NULL DEFAULT '',
    statuspage_key        TEXT    NOT NULL DEFAULT '',
    statuspage_last_error TEXT    NOT NULL DEFAULT '',
    state        TEXT   NOT NULL CHECK (state IN ('open', 'resolved')),
    until_at     BIGINT,
    resolved_by  TEXT   NOT NULL DEFAULT '',
    version      BIGINT NOT NULL CHECK (version >= 1),
    CHECK ((state = 'resolved') = (until_at IS NOT NULL)),
    CHECK (statuspage_enabled OR statuspage_state = '')
);

-- At most one open incident per anomaly: "announce an incident" clicked
-- twice from one anomaly leads to one incident. (NULLs are distinct.)
CREATE UNIQUE INDEX incidents_one_open_per_anomaly ON incidents (anomaly_id) WHERE state = 'open';
-- A reply in a thread finds its incident; one incident per announcement.
CREATE UNIQUE INDEX incidents_by_message ON incidents (channel, message_ts) WHERE message_ts <> '';
-- /ops status lists the open ones.
CREATE INDEX incidents_by_state ON incidents (state, environment, from_at);

-- Who did what when, append-only: announced, message_posted, updated,
-- statuspage_*, resolved. seq is the incident's version after the entry:
-- 1, 2, 3... with no gaps. Updates are the 'updated' entries.
CREATE TABLE incident_timeline (
    incident_id     BIGINT NOT NULL REFERENCES incidents (id),
    seq             BIGINT NOT NULL CHECK (seq >= 1),
    occurred_at     BIGINT NOT NULL,
    actor           TEXT   NOT NULL,
    kind            TEXT   NOT NULL,
    data            TEXT   NOT NULL DEFAULT '{}',
    idempotency_key TEXT,
    PRIMARY KEY (incident_id, seq)
);

-- A retried call cannot write twice. NULL (no key) is not unique.
CREATE UNIQUE INDEX incident_timeline_idempotency_key ON incident_timeline (idempotency_key);

-- Each occurrence of a schedule (the daily checklist) runs once across the
-- replicas: the first insert of its key wins.
CREATE TABLE claims (
    key        TEXT   PRIMARY KEY,
    claimed_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE claims;
DROP TABLE incident_timeline;
DROP TABLE incidents;
DELETE FROM id_counters WHERE name = 'incidents';
