-- Scheduler: every submit sums the owner's active (queued or running) jobs' escrow holds and task
-- counts (the balance check and the per-owner queue cap, store.cpp kAvailableSql). Without this
-- index those sums read every active job of every owner (jobs_active) or every job the owner ever
-- had (jobs_owner_created): 1.9 ms per submit with 1,000 jobs queued, growing with the queue.
-- With it they read only the owner's active entries, and from the index alone where the
-- visibility map allows.
CREATE INDEX jobs_owner_active ON scheduler.jobs (owner) INCLUDE (hold, task_count)
  WHERE state IN ('queued', 'running');
