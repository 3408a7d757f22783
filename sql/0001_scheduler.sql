-- Scheduler: jobs, their tasks, workers and their offers, and the settlement outbox that the
-- ledger adapter drains. The plan lives in memory; this is the truth.
CREATE SCHEMA scheduler;

CREATE TABLE scheduler.jobs (
  id              uuid PRIMARY KEY,
  owner           text NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('render', 'command')),
  name            text NOT NULL DEFAULT '',
  spec            jsonb NOT NULL,
  state           text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  max_price       bigint NOT NULL CHECK (max_price > 0),          -- micro-credits per task-hour
  min_reputation  bigint NOT NULL DEFAULT 0,
  output_bucket   text NOT NULL,
  output_prefix   text NOT NULL,
  task_count      integer NOT NULL,
  hold            bigint NOT NULL DEFAULT 0,                       -- escrow held at submit
  created_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
);
CREATE INDEX jobs_owner_created ON scheduler.jobs (owner, created_at DESC);
CREATE INDEX jobs_active ON scheduler.jobs (state) WHERE state IN ('queued', 'running');

CREATE TABLE scheduler.workers (
  id               uuid PRIMARY KEY,
  provider         text NOT NULL,
  hostname         text NOT NULL DEFAULT '',
  cores            integer NOT NULL CHECK (cores > 0),
  memory_mb        bigint NOT NULL CHECK (memory_mb > 0),
  disk_mb          bigint NOT NULL CHECK (disk_mb >= 0),
  gpus             integer NOT NULL DEFAULT 0 CHECK (gpus >= 0),
  gpu_models       jsonb NOT NULL DEFAULT '[]',
  price_core_hour  bigint NOT NULL CHECK (price_core_hour >= 0),
  price_gpu_hour   bigint NOT NULL CHECK (price_gpu_hour >= 0),
  offer            jsonb NOT NULL,
  state            text NOT NULL CHECK (state IN ('alive', 'lost', 'stopped')),
  registered_at    timestamptz NOT NULL DEFAULT now(),
  lost_at          timestamptz
);
CREATE INDEX workers_alive ON scheduler.workers (state) WHERE state = 'alive';

CREATE TABLE scheduler.tasks (
  id            uuid PRIMARY KEY,
  job_id        uuid NOT NULL REFERENCES scheduler.jobs (id),
  index         integer NOT NULL,
  frame_first   integer NOT NULL DEFAULT 0,
  frame_last    integer NOT NULL DEFAULT 0,
  state         text NOT NULL CHECK (state IN ('pending', 'leased', 'running', 'succeeded', 'failed', 'cancelled')),
  attempts      integer NOT NULL DEFAULT 0,
  attempt_id    uuid,                      -- fencing token of the current booking
  worker_id     uuid REFERENCES scheduler.workers (id),
  price         bigint,                    -- micro-credits per hour, agreed at match time
  delivered     boolean NOT NULL DEFAULT false,
  leased_at     timestamptz,
  started_at    timestamptz,
  finished_at   timestamptz,
  frames_done   integer NOT NULL DEFAULT 0,
  outputs       jsonb NOT NULL DEFAULT '[]',
  exit_code     integer,
  error         text NOT NULL DEFAULT '',
  cost          bigint,
  UNIQUE (job_id, index)
);
CREATE INDEX tasks_pending ON scheduler.tasks (job_id, index) WHERE state = 'pending';
CREATE INDEX tasks_worker_active ON scheduler.tasks (worker_id) WHERE state IN ('leased', 'running');

-- One row per attempt that ran; receipt_id is the attempt id, so settling twice is impossible.
CREATE TABLE scheduler.outbox (
  id                  bigserial PRIMARY KEY,
  receipt_id          uuid NOT NULL UNIQUE,
  task_id             uuid NOT NULL REFERENCES scheduler.tasks (id),
  job_id              uuid NOT NULL REFERENCES scheduler.jobs (id),
  payer               text NOT NULL,
  payee               text NOT NULL,
  amount              bigint NOT NULL CHECK (amount >= 0),
  receipt             jsonb NOT NULL,       -- the worker's usage receipt, as signed
  provider_signature  text NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  settled_at          timestamptz,
  block_height        bigint
);
CREATE INDEX outbox_unsettled ON scheduler.outbox (id) WHERE settled_at IS NULL;
