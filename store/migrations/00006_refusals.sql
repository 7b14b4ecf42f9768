-- The audit record of refused Slack requests: commands, clicks and modal
-- submissions from another workspace, enterprise or app, from a channel
-- where /ops may not be used, or by someone who is not a decider. One row
-- per request, keyed on its idempotency key (Slack ids that stay the same
-- when the request is delivered again), so a redelivery is recorded once.
-- Rows are never updated.
--
-- Portable SQL, as in 00001: BIGINT Unix-nanosecond times (UTC).

-- +goose Up
CREATE TABLE refusals (
    idempotency_key TEXT   PRIMARY KEY,
    occurred_at     BIGINT NOT NULL,
    user_id         TEXT   NOT NULL DEFAULT '',
    team_id         TEXT   NOT NULL DEFAULT '',
    enterprise_id   TEXT   NOT NULL DEFAULT '',
    channel_id      TEXT   NOT NULL DEFAULT '',
    action          TEXT   NOT NULL,
    reason          TEXT   NOT NULL
);

-- Read back newest first, from a time on.
CREATE INDEX refusals_by_time ON refusals (occurred_at);

-- +goose Down
DROP TABLE refusals;
