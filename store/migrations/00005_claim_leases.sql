-- An occurrence of the schedule is taken with a lease that its holder
-- renews while it runs the checklist and ends by marking it done: when the
-- holder dies mid-run, the lease runs out and another replica takes it.
-- Claims made before were run to their end (they were never released):
-- they are done. Plain claims (the record of a finished run,
-- "checklist-done/...") are done from the start.
--
-- Portable SQL, as in 00002.

-- +goose Up
ALTER TABLE claims ADD COLUMN holder TEXT NOT NULL DEFAULT '';
ALTER TABLE claims ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE claims ADD COLUMN done BOOLEAN NOT NULL DEFAULT TRUE;

-- +goose Down
ALTER TABLE claims DROP COLUMN done;
ALTER TABLE claims DROP COLUMN expires_at;
ALTER TABLE claims DROP COLUMN holder;
