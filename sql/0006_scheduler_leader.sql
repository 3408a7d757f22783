-- Scheduler leadership: several scheduler processes may serve one database, but only the holder
-- of this single row plans and books. The lease runs on the scheduler's (injectable) clock, in
-- milliseconds; a process that takes over an expired lease increments token, and every booking
-- checks the token in its own transaction, so a stale leader's commit books nothing.
CREATE TABLE scheduler.leader (
  id             integer PRIMARY KEY CHECK (id = 1),
  holder         text NOT NULL,
  token          bigint NOT NULL,
  expires_at_ms  bigint NOT NULL,
  acquired_at    timestamptz NOT NULL DEFAULT now()
);

-- The fencing token of the leader that booked the current attempt (audit; NULL before 0006).
ALTER TABLE scheduler.tasks ADD COLUMN booked_token bigint;

-- Whether a job still has unfinished tasks, answered by an index probe on every completion
-- instead of counting all of a large job's tasks.
CREATE INDEX tasks_job_active ON scheduler.tasks (job_id)
  WHERE state IN ('pending', 'leased', 'running');
