/**
 * Pulse's SQLite schema, as numbered migrations for `migrate(db, "pulse", PULSE_MIGRATIONS)`.
 * Never edit a shipped migration: append a new one.
 *
 * Times are unix milliseconds. `seq` gives insertion order (the FIFO tie-breaker) and is the
 * row's physical key; `id` is the public job id.
 */
export const PULSE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE pulse_jobs (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT    NOT NULL UNIQUE,
    handler           TEXT    NOT NULL,            -- qualified: <plugin>/<handler>
    plugin            TEXT    NOT NULL,
    handler_name      TEXT    NOT NULL,            -- raw name the plugin announced
    payload           BLOB    NOT NULL,
    source            TEXT    NOT NULL DEFAULT '',
    -- OR-ed, not IN (...): with IN, SQLite builds an ephemeral table per row write, and together
    -- with RETURNING that made every UPDATE 10-50x slower (measured on SQLite 3.53.2).
    status            TEXT    NOT NULL CHECK (status = 'queued' OR status = 'running' OR status = 'paused'
                                              OR status = 'completed' OR status = 'failed' OR status = 'cancelled'),
    priority          INTEGER NOT NULL DEFAULT 0,
    run_at            INTEGER NOT NULL,            -- not claimed before this time
    attempts          INTEGER NOT NULL DEFAULT 0,  -- claims so far (the current run included)
    max_attempts      INTEGER NOT NULL,
    timeout_secs      INTEGER,                     -- NULL: the pool's default
    progress_current  INTEGER NOT NULL DEFAULT 0,
    progress_total    INTEGER NOT NULL DEFAULT 0,
    cost_estimate     REAL    NOT NULL DEFAULT 0,
    cost_actual       REAL    NOT NULL DEFAULT 0,
    result            BLOB,
    error             TEXT    NOT NULL DEFAULT '',
    plugin_version    TEXT    NOT NULL DEFAULT '',
    parent_job_id     TEXT    NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    started_at        INTEGER,
    completed_at      INTEGER,
    updated_at        INTEGER NOT NULL,
    lease_owner       TEXT,
    lease_expires_at  INTEGER,
    cancel_requested  INTEGER NOT NULL DEFAULT 0
  );
  -- The claim path: queued jobs in dispatch order. Partial, so finished jobs cost nothing here.
  CREATE INDEX pulse_jobs_ready ON pulse_jobs (priority DESC, run_at, seq) WHERE status = 'queued';
  -- Lease expiry scans only running jobs.
  CREATE INDEX pulse_jobs_leases ON pulse_jobs (lease_expires_at) WHERE status = 'running';
  -- ListJobs by status, newest first.
  CREATE INDEX pulse_jobs_status ON pulse_jobs (status, seq);

  CREATE TABLE pulse_job_logs (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id     TEXT    NOT NULL,
    attempt    INTEGER NOT NULL,
    timestamp  TEXT    NOT NULL,                   -- RFC 3339, as the plugin sent it
    level      TEXT    NOT NULL DEFAULT '',
    message    TEXT    NOT NULL DEFAULT '',
    stage      TEXT    NOT NULL DEFAULT '',
    metadata   TEXT    NOT NULL DEFAULT ''         -- JSON text
  );
  CREATE INDEX pulse_job_logs_job ON pulse_job_logs (job_id, seq);

  CREATE TABLE pulse_schedules (
    handler           TEXT    PRIMARY KEY,         -- qualified: <plugin>/<handler>
    plugin            TEXT    NOT NULL,
    handler_name      TEXT    NOT NULL,
    interval_seconds  INTEGER NOT NULL,            -- 0 = off
    enabled           INTEGER NOT NULL,
    description       TEXT    NOT NULL DEFAULT '',
    ats_code          TEXT    NOT NULL DEFAULT '',
    next_run_at       INTEGER NOT NULL,
    last_run_at       INTEGER,
    last_job_id       TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
  );
  CREATE INDEX pulse_schedules_plugin ON pulse_schedules (plugin);
  `,
  // 2: jobs claimed ahead ("reserved"). A worker pool keeps a few jobs leased for the moment a
  // slot frees; they stay `queued` (they are not running yet, and `running` must never count
  // more jobs than the pool's concurrency) with lease_owner and lease_expires_at set. The claim
  // index leaves them out, and their own small index lets expiry and start-up recovery find them.
  `
  DROP INDEX pulse_jobs_ready;
  CREATE INDEX pulse_jobs_ready ON pulse_jobs (priority DESC, run_at, seq) WHERE status = 'queued' AND lease_owner IS NULL;
  CREATE INDEX pulse_jobs_reserved ON pulse_jobs (lease_expires_at) WHERE status = 'queued' AND lease_owner IS NOT NULL;
  `,
  // 3: schedules plugins create at run time (ScheduleService). Unlike the announced ones
  // (pulse_schedules, keyed by handler and synced at each Initialize) each has an id, an owner
  // (the plugin that created it: only it may change it), a payload, and a state.
  `
  CREATE TABLE pulse_plugin_schedules (
    id                TEXT    PRIMARY KEY,
    owner             TEXT    NOT NULL,            -- the plugin that created it
    handler           TEXT    NOT NULL,            -- qualified: <plugin>/<handler>
    plugin            TEXT    NOT NULL,
    handler_name      TEXT    NOT NULL,
    interval_seconds  INTEGER NOT NULL,
    payload           BLOB    NOT NULL,
    metadata          TEXT    NOT NULL DEFAULT '', -- JSON text of the metadata map
    state             TEXT    NOT NULL CHECK (state = 'active' OR state = 'paused' OR state = 'deleted'),
    next_run_at       INTEGER NOT NULL,
    last_run_at       INTEGER,
    last_job_id       TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
  );
  CREATE INDEX pulse_plugin_schedules_due ON pulse_plugin_schedules (next_run_at) WHERE state = 'active';
  CREATE INDEX pulse_plugin_schedules_owner ON pulse_plugin_schedules (owner);
  `,
  // 4: the W3C trace context a job was enqueued in ('' when none), sent with its ExecuteJob so
  // the run joins the trace of the request that asked for it.
  `
  ALTER TABLE pulse_jobs ADD COLUMN traceparent TEXT NOT NULL DEFAULT '';
  ALTER TABLE pulse_jobs ADD COLUMN tracestate  TEXT NOT NULL DEFAULT '';
  `,
];
