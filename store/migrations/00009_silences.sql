-- Silences made from Noise decisions on alerts (issue 11): the labels that
-- identify an anomaly's alerts (what a silence matches), and the silence
-- recorded on the current decision (its Alertmanager id and end; '' and
-- NULL when there is none). A new decision clears the silence.
--
-- Portable SQL, as in 00001: labels are a JSON object in TEXT.

-- +goose Up
ALTER TABLE anomalies ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
ALTER TABLE anomalies ADD COLUMN silence_id TEXT NOT NULL DEFAULT '';
ALTER TABLE anomalies ADD COLUMN silence_ends_at BIGINT;

-- +goose Down
ALTER TABLE anomalies DROP COLUMN silence_ends_at;
ALTER TABLE anomalies DROP COLUMN silence_id;
ALTER TABLE anomalies DROP COLUMN labels;
