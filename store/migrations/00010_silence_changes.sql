-- The life of a decision's silence after it was made (issue 11): the
-- length it was made for (what Extend adds, in nanoseconds; 0 for the
-- silences recorded before this migration), how many times it was
-- extended, and when and by whom it was seen to end early (expired by a
-- person) or run out (opsbot). A new silence or decision resets them.

-- +goose Up
ALTER TABLE anomalies ADD COLUMN silence_length BIGINT NOT NULL DEFAULT 0;
ALTER TABLE anomalies ADD COLUMN silence_extensions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE anomalies ADD COLUMN silence_ended_at BIGINT;
ALTER TABLE anomalies ADD COLUMN silence_ended_by TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE anomalies DROP COLUMN silence_ended_by;
ALTER TABLE anomalies DROP COLUMN silence_ended_at;
ALTER TABLE anomalies DROP COLUMN silence_extensions;
ALTER TABLE anomalies DROP COLUMN silence_length;
