-- Pulse on PostgreSQL: the same tables, columns and indexes as the SQLite schema
-- (src/schema.ts, migrations 1-3 together), so the two stores behave alike. Times are unix
-- milliseconds (bigint); seq gives insertion order (the FIFO tie-breaker).

CREATE TABLE pulse_jobs (
  seq               bigserial PRIMARY KEY,
  id                text    NOT NULL UNIQUE,
  handler           text    NOT NULL,            -- qualified: <plugin>/<handler>
  plugin            text    NOT NULL,
  handler_name      text    NOT NULL,            -- raw name the plugin announced
  payload           bytea   NOT NULL,
  source            text    NOT NULL DEFAULT '',
  status            text    NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'completed', 'failed', 'cancelled')),
  priority          integer NOT NULL DEFAULT 0,
  run_at            bigint  NOT NULL,            -- not claimed before this time
  attempts          integer NOT NULL DEFAULT 0,  -- claims so far (the current run included)
  max_attempts      integer NOT NULL,
  timeout_secs      double precision,            -- NULL: the pool's default
  progress_current  bigint  NOT NULL DEFAULT 0,
  progress_total    bigint  NOT NULL DEFAULT 0,
  cost_estimate     double precision NOT NULL DEFAULT 0,
  cost_actual       double precision NOT NULL DEFAULT 0,
  result            bytea,
  error             text    NOT NULL DEFAULT '',
  plugin_version    text    NOT NULL DEFAULT '',
  parent_job_id     text    NOT NULL DEFAULT '',
  created_at        bigint  NOT NULL,
  started_at        bigint,
  completed_at      bigint,
  updated_at        bigint  NOT NULL,
  lease_owner       text,                        -- the worker pool (host) holding it
  lease_expires_at  bigint,
  cancel_requested  integer NOT NULL DEFAULT 0
);
-- The claim path: unleased queued jobs in dispatch order (FOR UPDATE SKIP LOCKED walks it).
CREATE INDEX pulse_jobs_ready ON pulse_jobs (priority DESC, run_at, seq) WHERE status = 'queued' AND lease_owner IS NULL;
-- Lease expiry scans only running jobs, and jobs claimed ahead.
CREATE INDEX pulse_jobs_leases ON pulse_jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX pulse_jobs_reserved ON pulse_jobs (lease_expires_at) WHERE status = 'queued' AND lease_owner IS NOT NULL;
-- ListJobs by status, newest first.
CREATE INDEX pulse_jobs_status ON pulse_jobs (status, seq);

CREATE TABLE pulse_job_logs (
  seq        bigserial PRIMARY KEY,
  job_id     text    NOT NULL,
  attempt    integer NOT NULL,
  timestamp  text    NOT NULL,                   -- RFC 3339, as the plugin sent it
  level      text    NOT NULL DEFAULT '',
  message    text    NOT NULL DEFAULT '',
  stage      text    NOT NULL DEFAULT '',
  metadata   text    NOT NULL DEFAULT ''         -- JSON text
);
CREATE INDEX pulse_job_logs_job ON pulse_job_logs (job_id, seq);

-- Schedules plugins announce, keyed by qualified handler.
CREATE TABLE pulse_schedules (
  handler           text    PRIMARY KEY,
  plugin            text    NOT NULL,
  handler_name      text    NOT NULL,
  interval_seconds  integer NOT NULL,            -- 0 = off
  enabled           integer NOT NULL,
  description       text    NOT NULL DEFAULT '',
  ats_code          text    NOT NULL DEFAULT '',
  next_run_at       bigint  NOT NULL,
  last_run_at       bigint,
  last_job_id       text,
  created_at        bigint  NOT NULL,
  updated_at        bigint  NOT NULL
);
CREATE INDEX pulse_schedules_plugin ON pulse_schedules (plugin);

-- Schedules plugins create at run time (ScheduleService), owned by their creator.
CREATE TABLE pulse_plugin_schedules (
  id                text    PRIMARY KEY,
  owner             text    NOT NULL,
  handler           text    NOT NULL,
  plugin            text    NOT NULL,
  handler_name      text    NOT NULL,
  interval_seconds  integer NOT NULL,
  payload           bytea   NOT NULL,
  metadata          text    NOT NULL DEFAULT '',
  state             text    NOT NULL CHECK (state IN ('active', 'paused', 'deleted')),
  next_run_at       bigint  NOT NULL,
  last_run_at       bigint,
  last_job_id       text,
  created_at        bigint  NOT NULL,
  updated_at        bigint  NOT NULL
);
CREATE INDEX pulse_plugin_schedules_due ON pulse_plugin_schedules (next_run_at) WHERE state = 'active';
CREATE INDEX pulse_plugin_schedules_owner ON pulse_plugin_schedules (owner);
