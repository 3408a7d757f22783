-- The job views sum a job's charges and ask whether a task's charges settled; without these the
-- outbox, which keeps every charge ever made, is scanned for each job and task shown.
CREATE INDEX outbox_job ON scheduler.outbox (job_id);
CREATE INDEX outbox_task ON scheduler.outbox (task_id);
