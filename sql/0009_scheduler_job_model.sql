-- The deeper job model: retries with backoff, per-job worker blocklists, pause, dependencies
-- between jobs and between tasks, train and backup jobs, GPU and disk offers, preemption.

ALTER TABLE scheduler.jobs DROP CONSTRAINT IF EXISTS jobs_kind_check;
ALTER TABLE scheduler.jobs ADD CONSTRAINT jobs_kind_check
  CHECK (kind IN ('render', 'command', 'train', 'backup'));
ALTER TABLE scheduler.jobs
  ADD COLUMN paused         boolean NOT NULL DEFAULT false,
  ADD COLUMN priority       integer NOT NULL DEFAULT 0,
  ADD COLUMN preemptible    boolean NOT NULL DEFAULT false,
  -- How many jobs this one waits for that have not succeeded yet; 0 when free to run.
  ADD COLUMN blockers       integer NOT NULL DEFAULT 0,
  -- Whether other jobs or tasks wait for this job (so finishing it must look for them).
  ADD COLUMN has_dependents boolean NOT NULL DEFAULT false,
  -- Why the job cannot run now (e.g. no alive worker has the GPUs it needs); '' when none known.
  ADD COLUMN wait_reason    text NOT NULL DEFAULT '';
CREATE INDEX jobs_preemptible_active ON scheduler.jobs (priority)
  WHERE preemptible AND state IN ('queued', 'running');

ALTER TABLE scheduler.tasks
  -- A failed attempt's task may not be booked before this time (scheduler clock, ms).
  ADD COLUMN not_before_ms  bigint NOT NULL DEFAULT 0,
  -- Tasks this one waits for that have not succeeded yet.
  ADD COLUMN blockers       integer NOT NULL DEFAULT 0;
-- The ready queue: pending, not waiting for another task. Job-level conditions (paused, waiting
-- for jobs) are one row per job and are joined.
CREATE INDEX tasks_ready ON scheduler.tasks (job_id, index)
  WHERE state = 'pending' AND blockers = 0;

-- Job after job: job_id's tasks become ready when after_job_id has succeeded.
CREATE TABLE scheduler.job_deps (
  job_id        uuid NOT NULL REFERENCES scheduler.jobs (id),
  after_job_id  uuid NOT NULL REFERENCES scheduler.jobs (id),
  PRIMARY KEY (job_id, after_job_id)
);
CREATE INDEX job_deps_after ON scheduler.job_deps (after_job_id);

-- Task after task: task_id becomes ready when after_task_id has succeeded.
CREATE TABLE scheduler.task_deps (
  task_id        uuid NOT NULL REFERENCES scheduler.tasks (id),
  after_task_id  uuid NOT NULL REFERENCES scheduler.tasks (id),
  PRIMARY KEY (task_id, after_task_id)
);
CREATE INDEX task_deps_after ON scheduler.task_deps (after_task_id);

-- Failed attempts per (job, worker): at the job's blocklist_after the worker gets no more of it.
CREATE TABLE scheduler.job_worker_failures (
  job_id     uuid NOT NULL REFERENCES scheduler.jobs (id),
  worker_id  uuid NOT NULL REFERENCES scheduler.workers (id),
  failures   integer NOT NULL DEFAULT 0,
  PRIMARY KEY (job_id, worker_id)
);

-- Attempts taken from their task while running (requeue, preemption): the worker is told to stop
-- through its heartbeat, and a completion it still sends is billed once for the work done, like a
-- cancelled attempt, without touching the task.
CREATE TABLE scheduler.fenced_attempts (
  attempt_id  uuid PRIMARY KEY,
  task_id     uuid NOT NULL REFERENCES scheduler.tasks (id),
  worker_id   uuid NOT NULL REFERENCES scheduler.workers (id),
  price       bigint NOT NULL,
  why         text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- What GPU and disk offers carry beyond cores and memory.
ALTER TABLE scheduler.workers
  ADD COLUMN gpu_model            text NOT NULL DEFAULT '',
  ADD COLUMN gpu_memory_mb        bigint NOT NULL DEFAULT 0 CHECK (gpu_memory_mb >= 0),
  ADD COLUMN gpu_throughput       bigint NOT NULL DEFAULT 0 CHECK (gpu_throughput >= 0),
  ADD COLUMN price_disk_gb_month  bigint NOT NULL DEFAULT 0 CHECK (price_disk_gb_month >= 0);

-- Backup jobs: one row per replica, on distinct providers, at the agreed price per GB-month.
CREATE TABLE scheduler.placements (
  id              bigserial PRIMARY KEY,
  job_id          uuid NOT NULL REFERENCES scheduler.jobs (id),
  task_id         uuid NOT NULL REFERENCES scheduler.tasks (id),
  worker_id       uuid NOT NULL REFERENCES scheduler.workers (id),
  provider        text NOT NULL,
  capacity_mb     bigint NOT NULL CHECK (capacity_mb > 0),
  price_gb_month  bigint NOT NULL CHECK (price_gb_month >= 0),
  expires_at      timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (task_id, provider)
);
CREATE INDEX placements_worker ON scheduler.placements (worker_id, expires_at);
CREATE INDEX placements_job ON scheduler.placements (job_id);
