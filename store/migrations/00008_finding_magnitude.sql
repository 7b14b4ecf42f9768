-- How big an anomaly's finding was (checks.Finding.Count: log lines of a
-- signature, pods, alerts, series): when last seen, and when its current
-- decision was made. A finding decided Noise (or Intermittent, within its
-- recurrence window) is suppressed by the checklist as known noise until
-- it grows to the growth factor (10x) times its size when decided.
-- Anomalies and decisions recorded before have 0: "not known", which
-- suppresses whatever the size, until the decision is changed.
--
-- Portable SQL, as in 00001: DOUBLE PRECISION is a float8 in PostgreSQL
-- and has REAL affinity in SQLite.

-- +goose Up
ALTER TABLE anomalies ADD COLUMN magnitude DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE anomalies ADD COLUMN decided_magnitude DOUBLE PRECISION NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE anomalies DROP COLUMN decided_magnitude;
ALTER TABLE anomalies DROP COLUMN magnitude;
