import type Database from "better-sqlite3";
import type { RunOutput } from "./job-store.js";
import { newJob, newRunningJob, toJob, type EndedRow, type JobRow } from "./job-rows.js";
import type { NewJobRecord, PulseJob } from "./types.js";

// Statements of the SQLite job store (its SQL in one place); the rows' mapping is job-rows.ts.
export { newJob, newRunningJob, toJob, type EndedRow, type JobRow };




/** Every prepared statement of the job store. */
export type Statements = Record<"insert" | "insertRunning" | "bySeq" | "claimRow" | "reserveRow" | "start" | "unreserve" | "renew" | "complete" | "fail" | "cancelRun" | "release" | "expire" | "expireReserved" | "recover" | "recoverReserved" | "cancelWaiting" | "markCancel" | "retry" | "pause" | "transition" | "progress" | "insertLog" | "get" | "listAll" | "listStatus" | "logs" | "nextRunAt" | "counts", Database.Statement>;

/** Shared SET of lease expiry and start-up recovery: one statement, old values in every CASE. */
const EXPIRE_SET = `
  status = CASE WHEN cancel_requested = 1 THEN 'cancelled'
                WHEN attempts >= max_attempts THEN 'failed'
                ELSE 'queued' END,
  error = CASE WHEN cancel_requested = 1 THEN 'cancelled'
               ELSE @reason || ' (attempt ' || attempts || ' of ' || max_attempts || ')' END,
  completed_at = CASE WHEN cancel_requested = 1 OR attempts >= max_attempts THEN @now ELSE NULL END,
  updated_at = @now, lease_owner = NULL, lease_expires_at = NULL`;

/**
 * Shared SET of a reservation given back (by its pool, at lease expiry or at start-up
 * recovery): the job stays queued, its attempt uncounted, unless a cancel was asked meanwhile.
 */
const UNRESERVE_SET = `
  status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'queued' END,
  completed_at = CASE WHEN cancel_requested = 1 THEN @now ELSE NULL END,
  error = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE error END,
  updated_at = @now, lease_owner = NULL, lease_expires_at = NULL`;

/** Columns of the `insert` statement, bound by position from {@link insertArgs}. */
const INSERT_COLUMNS = `id, handler, plugin, handler_name, payload, source, status, priority, run_at,
  max_attempts, timeout_secs, cost_estimate, parent_job_id, created_at, updated_at`;
const INSERT_VALUES = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";

/** Columns of an insert of a job born running (claimed by its own enqueue): the insert's, then its first lease. */
export const INSERT_RUNNING_COLUMNS = `${INSERT_COLUMNS}, attempts, lease_owner, lease_expires_at, started_at`;

/**
 * Their values, bound by position from {@link insertRunningArgs}. Positional, not named: with
 * 17 named parameters read from an object, the one INSERT of an idle queue's enqueue cost about
 * 60 µs more after an idle gap (measured alternating in one process), the object and the named
 * look-ups being most of the JavaScript in the enqueue's transaction.
 */
export const INSERT_RUNNING_VALUES = `${INSERT_VALUES}, 1, ?, ?, ?`;

/**
 * The arguments of the `insert` statement (`INSERT_COLUMNS`), in order. `status` and
 * `updatedAt` default to the record's (a plain enqueue); a job born running passes its own.
 */
export function insertArgs(j: NewJobRecord, status: string = j.status, updatedAt: number = j.createdAt): unknown[] {
  return [j.id, j.handler, j.plugin, j.handlerName, j.payload, j.source, status, j.priority, j.runAt,
    j.maxAttempts, j.timeoutSecs ?? null, j.costEstimate, j.parentJobId, j.createdAt, updatedAt];
}

/** The arguments of `INSERT_RUNNING_VALUES`, in its order: a new job running under `owner`'s first lease, until `exp`. */
export function insertRunningArgs(j: NewJobRecord, owner: string, exp: number, now: number): unknown[] {
  const args = insertArgs(j, "running", now);
  args.push(owner, exp, now);
  return args;
}

/** Every statement, prepared once per connection. */
export function prepare(db: Database.Database): Statements {
  const fenced = "id = @id AND status = 'running' AND lease_owner = @owner AND attempts = @attempt";
  // A job claimed ahead: still queued, leased to @owner, its run to be attempt @attempt.
  const reserved = "id = @id AND status = 'queued' AND lease_owner = @owner AND attempts = @attempt - 1";
  // Run endings read back only what they change (a full RETURNING * costs ~8 µs per row in JS).
  const ended = `RETURNING status, attempts, run_at, error, progress_current, progress_total, cost_actual,
    plugin_version, completed_at, updated_at, cancel_requested`;
  const output = `
    result = COALESCE(@result, result),
    progress_current = COALESCE(@pc, progress_current), progress_total = COALESCE(@pt, progress_total),
    cost_actual = COALESCE(@cost, cost_actual), plugin_version = COALESCE(@pv, plugin_version)`;
  return {
    insert: db.prepare(`INSERT INTO pulse_jobs (${INSERT_COLUMNS}) VALUES (${INSERT_VALUES})`),
    // A new job claimed in its own enqueue's transaction: born running, leased, attempt 1.
    insertRunning: db.prepare(`INSERT INTO pulse_jobs (${INSERT_RUNNING_COLUMNS}) VALUES (${INSERT_RUNNING_VALUES})`),
    bySeq: db.prepare("SELECT * FROM pulse_jobs WHERE seq = ?"),
    claimRow: db.prepare(`
      UPDATE pulse_jobs SET status = 'running', attempts = attempts + 1, lease_owner = @owner,
        lease_expires_at = @exp, started_at = @now, updated_at = @now
      WHERE seq = @seq AND status = 'queued' AND lease_owner IS NULL`),
    // Claimed ahead: leased, still queued, attempt not counted until the run starts (`start`).
    reserveRow: db.prepare(`
      UPDATE pulse_jobs SET lease_owner = @owner, lease_expires_at = @exp
      WHERE seq = @seq AND status = 'queued' AND lease_owner IS NULL`),
    start: db.prepare(`
      UPDATE pulse_jobs SET status = 'running', attempts = attempts + 1, started_at = @now, updated_at = @now
      WHERE ${reserved}`),
    unreserve: db.prepare(`UPDATE pulse_jobs SET ${UNRESERVE_SET} WHERE ${reserved} ${ended}`),
    // A run whose start is not written yet still holds its reservation: both forms are renewed.
    renew: db.prepare(`
      UPDATE pulse_jobs SET lease_expires_at = @exp
      WHERE id = @id AND lease_owner = @owner
        AND ((status = 'running' AND attempts = @attempt) OR (status = 'queued' AND attempts = @attempt - 1))
      RETURNING cancel_requested`),
    complete: db.prepare(`
      UPDATE pulse_jobs SET status = 'completed', error = '', completed_at = @now, updated_at = @now,
        lease_owner = NULL, lease_expires_at = NULL, ${output}
      WHERE ${fenced} ${ended}`),
    fail: db.prepare(`
      UPDATE pulse_jobs SET
        status = CASE WHEN cancel_requested = 1 THEN 'cancelled' WHEN @retryAt IS NULL THEN 'failed' ELSE 'queued' END,
        completed_at = CASE WHEN cancel_requested = 1 OR @retryAt IS NULL THEN @now ELSE NULL END,
        run_at = COALESCE(@retryAt, run_at), error = @error, updated_at = @now,
        lease_owner = NULL, lease_expires_at = NULL, ${output}
      WHERE ${fenced} ${ended}`),
    cancelRun: db.prepare(`
      UPDATE pulse_jobs SET status = 'cancelled', error = @error, completed_at = @now, updated_at = @now,
        lease_owner = NULL, lease_expires_at = NULL
      WHERE ${fenced} ${ended}`),
    // @runAt and @reason are NULL for a plain release (a stopping pool); a deferral sets both.
    release: db.prepare(`
      UPDATE pulse_jobs SET status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'queued' END,
        completed_at = CASE WHEN cancel_requested = 1 THEN @now ELSE NULL END,
        error = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE COALESCE(@reason, error) END,
        run_at = COALESCE(@runAt, run_at),
        attempts = attempts - 1, updated_at = @now, lease_owner = NULL, lease_expires_at = NULL
      WHERE ${fenced} ${ended}`),
    expire: db.prepare(`UPDATE pulse_jobs INDEXED BY pulse_jobs_leases SET ${EXPIRE_SET}
      WHERE status = 'running' AND lease_expires_at < @now RETURNING *`),
    expireReserved: db.prepare(`UPDATE pulse_jobs INDEXED BY pulse_jobs_reserved SET ${UNRESERVE_SET}
      WHERE status = 'queued' AND lease_owner IS NOT NULL AND lease_expires_at < @now RETURNING *`),
    recover: db.prepare(`
      UPDATE pulse_jobs SET ${EXPIRE_SET}
      WHERE status = 'running' AND (lease_owner IS NULL OR substr(lease_owner, 1, length(@prefix)) <> @prefix)
      RETURNING *`),
    recoverReserved: db.prepare(`
      UPDATE pulse_jobs INDEXED BY pulse_jobs_reserved SET ${UNRESERVE_SET}
      WHERE status = 'queued' AND lease_owner IS NOT NULL AND substr(lease_owner, 1, length(@prefix)) <> @prefix
      RETURNING *`),
    cancelWaiting: db.prepare(`
      UPDATE pulse_jobs SET status = 'cancelled', error = 'cancelled', completed_at = @now, updated_at = @now
      WHERE id = @id AND status IN ('queued', 'paused') AND lease_owner IS NULL RETURNING *`),
    markCancel: db.prepare(`UPDATE pulse_jobs SET cancel_requested = 1, updated_at = @now WHERE id = @id RETURNING *`),
    retry: db.prepare(`
      UPDATE pulse_jobs SET status = 'queued', attempts = 0, error = '', result = NULL, progress_current = 0,
        progress_total = 0, run_at = @now, started_at = NULL, completed_at = NULL, cancel_requested = 0,
        lease_owner = NULL, lease_expires_at = NULL, updated_at = @now
      WHERE id = @id AND status IN ('failed', 'cancelled') RETURNING *`),
    // A reserved job may be paused only by its own pool (which has taken it off its list).
    pause: db.prepare(`
      UPDATE pulse_jobs SET status = 'paused', updated_at = @now, lease_owner = NULL, lease_expires_at = NULL
      WHERE id = @id AND status = 'queued' AND (lease_owner IS NULL OR lease_owner = @owner) RETURNING *`),
    transition: db.prepare(`UPDATE pulse_jobs SET status = @to, updated_at = @now WHERE id = @id AND status = @from RETURNING *`),
    progress: db.prepare(`
      UPDATE pulse_jobs SET progress_current = COALESCE(@pc, progress_current), progress_total = COALESCE(@pt, progress_total),
        cost_actual = COALESCE(@cost, cost_actual), updated_at = @now
      WHERE id = @id AND status IN ('queued', 'running', 'paused') RETURNING *`),
    insertLog: db.prepare(`
      INSERT INTO pulse_job_logs (job_id, attempt, timestamp, level, message, stage, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    get: db.prepare("SELECT * FROM pulse_jobs WHERE id = ?"),
    listAll: db.prepare(`
      SELECT * FROM pulse_jobs WHERE (@handler IS NULL OR handler = @handler) ORDER BY seq DESC LIMIT @limit`),
    listStatus: db.prepare(`
      SELECT * FROM pulse_jobs INDEXED BY pulse_jobs_status
      WHERE status = @status AND (@handler IS NULL OR handler = @handler) ORDER BY seq DESC LIMIT @limit`),
    logs: db.prepare(`
      SELECT attempt, timestamp, level, message, stage, metadata FROM pulse_job_logs WHERE job_id = ? ORDER BY seq`),
    nextRunAt: db.prepare(`
      SELECT MIN(run_at) AS t FROM pulse_jobs INDEXED BY pulse_jobs_ready
      WHERE status = 'queued' AND lease_owner IS NULL AND run_at > @now
        AND (@handlers IS NULL OR handler IN (SELECT value FROM json_each(@handlers)))`),
    counts: db.prepare("SELECT status, COUNT(*) AS n FROM pulse_jobs GROUP BY status"),
  };
}

export function outputParams(o: RunOutput | undefined) {
  return {
    result: o?.result ?? null,
    pc: o?.progress ? o.progress.current : null,
    pt: o?.progress ? o.progress.total : null,
    cost: o?.costActual ?? null,
    pv: o?.pluginVersion || null,
  };
}



/**
 * What the claim SELECT reads of a job, in this order (raw arrays: building an object of every
 * column per row cost about 22 µs a row, arrays about half). The columns the claim itself sets
 * (status, lease, started_at, updated_at) are not read.
 */
export const CLAIM_COLUMNS = `seq, id, handler, plugin, handler_name, payload, source, priority, run_at, attempts,
  max_attempts, timeout_secs, progress_current, progress_total, cost_estimate, cost_actual, result, error,
  plugin_version, parent_job_id, created_at, completed_at, cancel_requested`;

/** A job read by the claim SELECT (`CLAIM_COLUMNS`, raw) as the claim's UPDATE leaves it. */
export function claimedJob(r: unknown[], owner: string, exp: number, now: number): PulseJob {
  return {
    id: r[1] as string,
    handler: r[2] as string,
    plugin: r[3] as string,
    handlerName: r[4] as string,
    payload: r[5] as Buffer,
    source: r[6] as string,
    status: "running",
    priority: r[7] as number,
    runAt: r[8] as number,
    attempts: (r[9] as number) + 1,
    maxAttempts: r[10] as number,
    timeoutSecs: (r[11] as number | null) ?? undefined,
    progress: { current: r[12] as number, total: r[13] as number },
    costEstimate: r[14] as number,
    costActual: r[15] as number,
    result: (r[16] as Buffer | null) ?? undefined,
    error: r[17] as string,
    pluginVersion: r[18] as string,
    parentJobId: r[19] as string,
    createdAt: r[20] as number,
    startedAt: now,
    completedAt: (r[21] as number | null) ?? undefined,
    updatedAt: now,
    cancelRequested: r[22] === 1,
    leaseOwner: owner,
    leaseExpiresAt: exp,
  };
}

/**
 * A job read by the claim SELECT (`CLAIM_COLUMNS`, raw) as a reservation leaves it: queued,
 * leased to `owner`, attempt not counted. started_at and updated_at are not read (the pool
 * sets both when the run starts).
 */
export function reservedJob(r: unknown[], owner: string, exp: number, now: number): PulseJob {
  const job = claimedJob(r, owner, exp, now);
  job.status = "queued";
  job.attempts = r[9] as number;
  job.startedAt = undefined;
  return job;
}

