-- The announcement of an incident as it was posted, and whether it was
-- edited to show the resolution: resolving appends to the text as posted
-- (not to a text rendered again from templates changed since), and an
-- edit that failed is done again by the next resolve or Retry.
--
-- Portable SQL, as in 00002.

-- +goose Up
ALTER TABLE incidents ADD COLUMN message_text TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN message_resolved BOOLEAN NOT NULL DEFAULT FALSE;
-- Incidents resolved before: their announcement was edited when they were
-- resolved (a failed edit was not recorded then; it is not retried now).
UPDATE incidents SET message_resolved = TRUE WHERE state = 'resolved' AND message_ts <> '';

-- +goose Down
ALTER TABLE incidents DROP COLUMN message_resolved;
ALTER TABLE incidents DROP COLUMN message_text;
