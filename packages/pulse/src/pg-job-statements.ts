/**
 * The SQL of Pulse's PostgreSQL job store, one statement per write, written like the SQLite
 * store's (sqlite-statements.ts) so the two read side by side. Claims take rows with
 * `FOR UPDATE SKIP LOCKED`: hosts claiming at once take different jobs instead of waiting on
 * each other. Fenced writes (a run's end) match owner and attempt, so a host whose lease
 * expired cannot overwrite the run that replaced its own.
 */
import { sql } from "./pg-sql.js";

/** The channel enqueues notify (payload: the earliest run_at of the new queued jobs). */
export const JOBS_CHANNEL = "qntx_pulse_jobs";

const FENCED = "id = @id AND status = 'running' AND lease_owner = @owner AND attempts = @attempt";
// A job claimed ahead: still queued, leased to @owner, its run to be attempt @attempt.
const RESERVED = "id = @id AND status = 'queued' AND lease_owner = @owner AND attempts = @attempt - 1";
const ENDED = `RETURNING status, attempts, run_at, error, progress_current, progress_total, cost_actual,
  plugin_version, completed_at, updated_at, cancel_requested`;
const OUTPUT = `
  result = COALESCE(@result::bytea, result),
  progress_current = COALESCE(@pc::bigint, progress_current), progress_total = COALESCE(@pt::bigint, progress_total),
  cost_actual = COALESCE(@cost::float8, cost_actual), plugin_version = COALESCE(@pv::text, plugin_version)`;
const EXPIRE_SET = `
  status = CASE WHEN cancel_requested = 1 THEN 'cancelled' WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
  error = CASE WHEN cancel_requested = 1 THEN 'cancelled'
               ELSE @reason::text || ' (attempt ' || attempts || ' of ' || max_attempts || ')' END,
  completed_at = CASE WHEN cancel_requested = 1 OR attempts >= max_attempts THEN @now::bigint ELSE NULL END,
  updated_at = @now, lease_owner = NULL, lease_expires_at = NULL`;
const UNRESERVE_SET = `
  status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'queued' END,
  completed_at = CASE WHEN cancel_requested = 1 THEN @now::bigint ELSE NULL END,
  error = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE error END,
  updated_at = @now, lease_owner = NULL, lease_expires_at = NULL`;
// The due, unleased jobs of @handlers (NULL: all) in dispatch order, skipping rows another host is claiming.
const PICK = `SELECT seq FROM pulse_jobs
  WHERE status = 'queued' AND lease_owner IS NULL AND run_at <= @now
    AND (@handlers::text[] IS NULL OR handler = ANY(@handlers::text[]))
  ORDER BY priority DESC, run_at, seq LIMIT @limit FOR UPDATE SKIP LOCKED`;

/** Columns of an insert (updated_at starts as created_at). */
export const INSERT_COLUMNS = `id, handler, plugin, handler_name, payload, source, status, priority, run_at,
  max_attempts, timeout_secs, cost_estimate, parent_job_id, created_at, updated_at`;

/** Every statement of the PostgreSQL job store. */
export const PG_JOB_SQL = {
  // Many jobs in one statement, in order (seq follows the arrays).
  insert: sql(`INSERT INTO pulse_jobs (${INSERT_COLUMNS}) SELECT * FROM unnest(@ids::text[], @handlers::text[], @plugins::text[],
    @names::text[], @payloads::bytea[], @sources::text[], @statuses::text[], @priorities::int[], @runAts::bigint[],
    @maxAttempts::int[], @timeouts::float8[], @costs::float8[], @parents::text[], @createdAts::bigint[], @createdAts::bigint[])`),
  claim: sql(`UPDATE pulse_jobs j SET status = 'running', attempts = j.attempts + 1, lease_owner = @owner,
      lease_expires_at = @exp, started_at = @now, updated_at = @now
    FROM (${PICK}) p WHERE j.seq = p.seq RETURNING j.*`),
  // Claimed ahead: leased, still queued, attempt not counted until the run starts.
  reserve: sql(`UPDATE pulse_jobs j SET lease_owner = @owner, lease_expires_at = @exp
    FROM (${PICK}) p WHERE j.seq = p.seq RETURNING j.*`),
  start: sql(`UPDATE pulse_jobs SET status = 'running', attempts = attempts + 1, started_at = @now, updated_at = @now WHERE ${RESERVED}`),
  unreserve: sql(`UPDATE pulse_jobs SET ${UNRESERVE_SET} WHERE ${RESERVED} ${ENDED}`),
  // A run whose start is not written yet still holds its reservation: both forms are renewed.
  renew: sql(`UPDATE pulse_jobs j SET lease_expires_at = @exp FROM unnest(@ids::text[], @attempts::int[]) AS f(id, attempt)
    WHERE j.id = f.id AND j.lease_owner = @owner
      AND ((j.status = 'running' AND j.attempts = f.attempt) OR (j.status = 'queued' AND j.attempts = f.attempt - 1))
    RETURNING j.id, f.attempt, j.cancel_requested`),
  complete: sql(`UPDATE pulse_jobs SET status = 'completed', error = '', completed_at = @now, updated_at = @now,
      lease_owner = NULL, lease_expires_at = NULL, ${OUTPUT}
    WHERE ${FENCED} ${ENDED}`),
  fail: sql(`UPDATE pulse_jobs SET
      status = CASE WHEN cancel_requested = 1 THEN 'cancelled' WHEN @retryAt::bigint IS NULL THEN 'failed' ELSE 'queued' END,
      completed_at = CASE WHEN cancel_requested = 1 OR @retryAt::bigint IS NULL THEN @now::bigint ELSE NULL END,
      run_at = COALESCE(@retryAt::bigint, run_at), error = @error, updated_at = @now,
      lease_owner = NULL, lease_expires_at = NULL, ${OUTPUT}
    WHERE ${FENCED} ${ENDED}`),
  cancelRun: sql(`UPDATE pulse_jobs SET status = 'cancelled', error = @error, completed_at = @now, updated_at = @now,
      lease_owner = NULL, lease_expires_at = NULL
    WHERE ${FENCED} ${ENDED}`),
  // @runAt and @reason are NULL for a plain release (a stopping pool); a deferral sets both.
  release: sql(`UPDATE pulse_jobs SET status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'queued' END,
      completed_at = CASE WHEN cancel_requested = 1 THEN @now::bigint ELSE NULL END,
      error = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE COALESCE(@reason::text, error) END,
      run_at = COALESCE(@runAt::bigint, run_at),
      attempts = attempts - 1, updated_at = @now, lease_owner = NULL, lease_expires_at = NULL
    WHERE ${FENCED} ${ENDED}`),
  expire: sql(`UPDATE pulse_jobs SET ${EXPIRE_SET} WHERE status = 'running' AND lease_expires_at < @now RETURNING *`),
  expireReserved: sql(`UPDATE pulse_jobs SET ${UNRESERVE_SET}
    WHERE status = 'queued' AND lease_owner IS NOT NULL AND lease_expires_at < @now RETURNING *`),
  recover: sql(`UPDATE pulse_jobs SET ${EXPIRE_SET}
    WHERE status = 'running' AND (lease_owner IS NULL OR left(lease_owner, length(@prefix::text)) <> @prefix::text) RETURNING *`),
  recoverReserved: sql(`UPDATE pulse_jobs SET ${UNRESERVE_SET}
    WHERE status = 'queued' AND lease_owner IS NOT NULL AND left(lease_owner, length(@prefix::text)) <> @prefix::text RETURNING *`),
  cancelWaiting: sql(`UPDATE pulse_jobs SET status = 'cancelled', error = 'cancelled', completed_at = @now, updated_at = @now
    WHERE id = @id AND status IN ('queued', 'paused') AND lease_owner IS NULL RETURNING *`),
  markCancel: sql("UPDATE pulse_jobs SET cancel_requested = 1, updated_at = @now WHERE id = @id RETURNING *"),
  retry: sql(`UPDATE pulse_jobs SET status = 'queued', attempts = 0, error = '', result = NULL, progress_current = 0,
      progress_total = 0, run_at = @now, started_at = NULL, completed_at = NULL, cancel_requested = 0,
      lease_owner = NULL, lease_expires_at = NULL, updated_at = @now
    WHERE id = @id AND status IN ('failed', 'cancelled') RETURNING *`),
  // A reserved job may be paused only by its own pool (which has taken it off its list).
  pause: sql(`UPDATE pulse_jobs SET status = 'paused', updated_at = @now, lease_owner = NULL, lease_expires_at = NULL
    WHERE id = @id AND status = 'queued' AND (lease_owner IS NULL OR lease_owner = @owner::text) RETURNING *`),
  transition: sql("UPDATE pulse_jobs SET status = @to::text, updated_at = @now WHERE id = @id AND status = @from::text RETURNING *"),
  progress: sql(`UPDATE pulse_jobs SET progress_current = COALESCE(@pc::bigint, progress_current),
      progress_total = COALESCE(@pt::bigint, progress_total), cost_actual = COALESCE(@cost::float8, cost_actual), updated_at = @now
    WHERE id = @id AND status IN ('queued', 'running', 'paused') RETURNING *`),
  insertLogs: sql(`INSERT INTO pulse_job_logs (job_id, attempt, timestamp, level, message, stage, metadata)
    SELECT @jobId::text, @attempt::int, * FROM unnest(@ts::text[], @levels::text[], @messages::text[], @stages::text[], @metas::text[])`),
  get: sql("SELECT * FROM pulse_jobs WHERE id = @id"),
  list: sql(`SELECT * FROM pulse_jobs WHERE (@status::text IS NULL OR status = @status::text)
    AND (@handler::text IS NULL OR handler = @handler::text) ORDER BY seq DESC LIMIT @limit`),
  logs: sql("SELECT attempt, timestamp, level, message, stage, metadata FROM pulse_job_logs WHERE job_id = @id ORDER BY seq"),
  nextRunAt: sql(`SELECT min(run_at) AS t FROM pulse_jobs
    WHERE status = 'queued' AND lease_owner IS NULL AND run_at > @now
      AND (@handlers::text[] IS NULL OR handler = ANY(@handlers::text[]))`),
  counts: sql("SELECT status, count(*)::int AS n FROM pulse_jobs GROUP BY status"),
  notify: sql("SELECT pg_notify(@channel, @payload)"),
};
