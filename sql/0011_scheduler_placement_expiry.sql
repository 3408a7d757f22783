-- Backup placements end: when a placement's expiry has passed on the scheduler's clock, the
-- leader's reaper releases it (released_at) and the disk goes back to the worker's offer. Released
-- rows stay for the job's history.
ALTER TABLE scheduler.placements ADD COLUMN released_at timestamptz;
-- The reaper's probe: placements still holding disk, by expiry.
CREATE INDEX placements_held ON scheduler.placements (expires_at) WHERE released_at IS NULL;
