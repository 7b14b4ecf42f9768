-- The logs check's incremental state (issue 14): per environment, up to
-- when each container's log was read and the error events found, so that
-- the next checklist reads only what was logged since. The document is
-- the check's (checks/logs), JSON as TEXT; saved_at is a BIGINT
-- Unix-nanosecond time (UTC), as in 00001.

-- +goose Up
CREATE TABLE log_state (
    environment TEXT   PRIMARY KEY,
    state       TEXT   NOT NULL,
    saved_at    BIGINT NOT NULL
);

-- +goose Down
DROP TABLE log_state;
