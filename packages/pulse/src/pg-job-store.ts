/**
 * The PostgreSQL implementation of {@link JobStore} (`pg`, no ORM): several hosts on one
 * database share one queue. Claims skip rows another host is claiming (`FOR UPDATE SKIP
 * LOCKED`); a host claims only the handlers it can run (the pool passes them); an enqueue
 * NOTIFYs {@link JOBS_CHANNEL} so idle hosts claim within milliseconds (pg-job-listener.ts;
 * the pool's poll is the backstop); a host that dies stops renewing its leases and any host's
 * `expireLeases` re-queues its jobs, the attempt counted, with the reason.
 *
 * Same semantics as the SQLite store; the conformance suite (test/conformance) runs both.
 */
import type pg from "pg";
import type { JobLogEntry } from "@qntx/protocol";
import { PulseError } from "./errors.js";
import { endedJob, newJob, toJob, type EndedRow, type JobRow } from "./job-rows.js";
import type { ClaimRequest, Fence, FinishOp, JobStore, ProgressPatch, RenewResult } from "./job-store.js";
import { silentLogger } from "./logger.js";
import { DatabaseAvailability, type DatabaseHealth } from "./pg-availability.js";
import type { JobListener, NewJobsListener } from "./pg-job-listener.js";
import { JOBS_CHANNEL, PG_JOB_SQL as Q } from "./pg-job-statements.js";
import { inTransaction, isUniqueViolation, type Queryable } from "./pg-sql.js";
import { outputParams } from "./sqlite-statements.js";
import { isJobStatus, type JobStatus, type ListQuery, type NewJobRecord, type PulseJob, type PulseLogEntry } from "./types.js";

const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 10_000;

/** {@link JobStore} on PostgreSQL. Open it with `openPgPulseStores` (migrations first). */
export class PgJobStore implements JobStore {
  /** Several hosts share this store: start-up recovery must take only expired leases. */
  readonly shared = true;

  /**
   * @param pool connections to the database (migrated: see openPgPulseStores)
   * @param listener the LISTEN connection that brings other hosts' enqueues
   */
  constructor(
    readonly pool: pg.Pool,
    private readonly listener?: JobListener,
    /** Whether the database is reachable; what to do while it is not (pg-availability.ts). */
    readonly availability: DatabaseAvailability = new DatabaseAvailability(silentLogger),
  ) {}

  /** Whether the database is reachable (the host's health shows it). */
  health(): DatabaseHealth {
    return this.availability.health();
  }

  /** {@inheritDoc JobStore.onNewJobs} */
  onNewJobs(listener: NewJobsListener): () => void {
    return this.listener ? this.listener.subscribe(listener) : () => undefined;
  }

  async enqueue(jobs: readonly NewJobRecord[]): Promise<PulseJob[]> {
    if (jobs.length === 0) return [];
    return this.availability.run(() => inTransaction(this.pool, async (c) => {
      await this.insert(c, jobs);
      await this.notify(c, jobs);
      return jobs.map(newJob);
    }));
  }

  async enqueueAndClaim(jobs: readonly NewJobRecord[], claim: ClaimRequest, now: number): Promise<{ enqueued: PulseJob[]; claimed: PulseJob[] }> {
    return this.availability.run(() => inTransaction(this.pool, async (c) => {
      await this.insert(c, jobs);
      const claimed = await this.claimIn(c, claim, now);
      // Other hosts are woken only for what this one left queued.
      const taken = new Set(claimed.map((j) => j.id));
      await this.notify(c, jobs.filter((j) => !taken.has(j.id)));
      return { enqueued: jobs.map(newJob), claimed };
    }));
  }

  /**
   * Inserts `jobs` in one statement (inside the caller's transaction).
   * @throws PulseError INVALID_ARGUMENT for an id already taken
   */
  insert(c: Queryable, jobs: readonly NewJobRecord[]): Promise<unknown> {
    return Q.insert.run(c, {
      ids: jobs.map((j) => j.id), handlers: jobs.map((j) => j.handler), plugins: jobs.map((j) => j.plugin), names: jobs.map((j) => j.handlerName),
      payloads: jobs.map((j) => j.payload), sources: jobs.map((j) => j.source), statuses: jobs.map((j) => j.status), priorities: jobs.map((j) => j.priority),
      runAts: jobs.map((j) => j.runAt), maxAttempts: jobs.map((j) => j.maxAttempts), timeouts: jobs.map((j) => j.timeoutSecs ?? null),
      costs: jobs.map((j) => j.costEstimate), parents: jobs.map((j) => j.parentJobId), createdAts: jobs.map((j) => j.createdAt),
    }).catch((err: unknown) => {
      if (!isUniqueViolation(err)) throw err;
      const detail = (err as { detail?: string }).detail ?? "";
      const id = /\(id\)=\((.*)\)/.exec(detail)?.[1] ?? jobs.map((j) => j.id).join(", ");
      throw new PulseError("INVALID_ARGUMENT", `job id "${id}" already exists`, { hint: "leave id empty to get a generated one", cause: err });
    });
  }

  /** NOTIFY other hosts of the queued jobs among `jobs` (delivered at commit), with the earliest run time. */
  async notify(c: Queryable, jobs: readonly Pick<PulseJob, "status" | "runAt">[]): Promise<void> {
    const queued = jobs.filter((j) => j.status === "queued");
    if (queued.length === 0) return;
    await Q.notify.run(c, { channel: JOBS_CHANNEL, payload: String(Math.min(...queued.map((j) => j.runAt))) });
  }

  async claim(owner: string, limit: number, leaseMs: number, now: number, handlers?: readonly string[]): Promise<PulseJob[]> {
    // While the database is away, claims wait for the next retry: jobs pause.
    if (limit <= 0 || (handlers && handlers.length === 0) || this.availability.waiting()) return [];
    return this.availability.run(() => this.claimIn(this.pool, { owner, limit, leaseMs, handlers }, now));
  }

  /** Claims `c.limit` jobs, then reserves `c.reserve` more (see ClaimRequest), in dispatch order. */
  private async claimIn(db: Queryable, c: ClaimRequest, now: number): Promise<PulseJob[]> {
    const reserve = c.reserve ?? 0;
    if (c.limit + reserve <= 0 || (c.handlers && c.handlers.length === 0)) return [];
    const params = { owner: c.owner, exp: now + c.leaseMs, now, handlers: c.handlers ?? null };
    const claimed = c.limit > 0 ? (await Q.claim.run<JobRow>(db, { ...params, limit: c.limit })).rows : [];
    const reserved = reserve > 0 ? (await Q.reserve.run<JobRow>(db, { ...params, limit: reserve })).rows : [];
    return [...sortForDispatch(claimed), ...sortForDispatch(reserved)].map(toJob);
  }

  async renewLeases(owner: string, fences: readonly Fence[], leaseMs: number, now: number): Promise<RenewResult> {
    // While the database is away nothing can be renewed, nor taken by another host through it.
    if (fences.length === 0 || this.availability.waiting()) return { lost: [], cancelRequested: [] };
    const { rows } = await this.availability.run(() => Q.renew.run<{ id: string; attempt: number; cancel_requested: number }>(this.pool, {
      ids: fences.map((f) => f.id), attempts: fences.map((f) => f.attempt), owner, exp: now + leaseMs,
    }));
    // By run, not by job: an old run's fence of a job this owner claimed again is lost.
    const held = new Map(rows.map((r) => [`${r.attempt} ${r.id}`, r.cancel_requested === 1]));
    const key = (f: Fence): string => `${f.attempt} ${f.id}`;
    return {
      lost: fences.filter((f) => !held.has(key(f))).map((f) => f.id),
      cancelRequested: fences.filter((f) => held.get(key(f)) === true).map((f) => f.id),
    };
  }

  async finish(ops: readonly FinishOp[], now: number): Promise<PulseJob[]> {
    if (ops.length === 0) return [];
    // A run's ending is retried until the database takes it: the job is not failed for an outage.
    return this.availability.retry(() => inTransaction(this.pool, (c) => this.finishIn(c, ops, now)));
  }

  async finishAndClaim(ops: readonly FinishOp[], claim: ClaimRequest | undefined, now: number): Promise<{ finished: PulseJob[]; claimed: PulseJob[] }> {
    if (!claim) return { finished: await this.finish(ops, now), claimed: [] };
    return this.availability.retry(() =>
      inTransaction(this.pool, async (c) => ({ finished: await this.finishIn(c, ops, now), claimed: await this.claimIn(c, claim, now) })),
    );
  }

  private async finishIn(c: pg.PoolClient, ops: readonly FinishOp[], now: number): Promise<PulseJob[]> {
    const out: PulseJob[] = [];
    for (const op of ops) {
      const job = await this.finishOne(c, op, now);
      if (job) out.push(job);
    }
    return out;
  }

  private async finishOne(c: pg.PoolClient, op: FinishOp, now: number): Promise<PulseJob | undefined> {
    const fence = { id: op.fence.id, owner: op.fence.owner, attempt: op.fence.attempt, now };
    let rows: EndedRow[];
    switch (op.kind) {
      case "complete":
        rows = (await Q.complete.run<EndedRow>(c, { ...fence, ...outputParams(op.output) })).rows;
        if (rows[0]) await this.insertLogs(c, op.fence.id, op.fence.attempt, op.output.logs);
        break;
      case "fail":
        rows = (await Q.fail.run<EndedRow>(c, { ...fence, ...outputParams(op.output), error: op.error, retryAt: op.retryAt ?? null })).rows;
        if (rows[0]) await this.insertLogs(c, op.fence.id, op.fence.attempt, op.output?.logs);
        break;
      case "cancel":
        rows = (await Q.cancelRun.run<EndedRow>(c, { ...fence, error: op.reason })).rows;
        break;
      case "release":
        rows = (await Q.release.run<EndedRow>(c, { ...fence, runAt: op.defer?.runAt ?? null, reason: op.defer?.reason ?? null })).rows;
        // The attempt was not counted: the line goes with the attempt the job has now.
        if (rows[0] && op.defer) await this.insertLogs(c, op.fence.id, op.fence.attempt - 1, [op.defer.log]);
        break;
      case "start":
        // A lost reservation writes nothing here; the pool learns of it at its next renewal.
        await Q.start.run(c, fence);
        return undefined;
      case "unreserve":
        rows = (await Q.unreserve.run<EndedRow>(c, fence)).rows;
        break;
    }
    return rows[0] && endedJob(op, rows[0]);
  }

  private async insertLogs(c: Queryable, jobId: string, attempt: number, logs: readonly JobLogEntry[] | undefined): Promise<void> {
    if (!logs || logs.length === 0) return;
    const now = new Date().toISOString();
    await Q.insertLogs.run(c, {
      jobId, attempt, ts: logs.map((e) => e.timestamp || now), levels: logs.map((e) => e.level ?? ""), messages: logs.map((e) => e.message ?? ""),
      stages: logs.map((e) => e.stage ?? ""), metas: logs.map((e) => e.metadata ?? ""),
    });
  }

  async expireLeases(now: number): Promise<PulseJob[]> {
    if (this.availability.waiting()) return [];
    return this.availability.run(() => inTransaction(this.pool, async (c) => [
      ...(await Q.expire.run<JobRow>(c, { now, reason: "lease expired: its worker stopped renewing it" })).rows.map(toJob),
      ...(await Q.expireReserved.run<JobRow>(c, { now })).rows.map(toJob),
    ]));
  }

  async recoverAbandoned(ownerPrefix: string, now: number): Promise<PulseJob[]> {
    return inTransaction(this.pool, async (c) => [
      ...(await Q.recover.run<JobRow>(c, { now, reason: "recovered at start-up: the host that ran it is gone", prefix: ownerPrefix })).rows.map(toJob),
      ...(await Q.recoverReserved.run<JobRow>(c, { now, prefix: ownerPrefix })).rows.map(toJob),
    ]);
  }

  async requestCancel(id: string, now: number): Promise<PulseJob> {
    const job = await this.mustGet(id);
    switch (job.status) {
      case "queued":
        // Reserved by a pool (claimed ahead): that pool gives it back as cancelled.
        if (job.leaseOwner !== undefined) return this.one(Q.markCancel.run<JobRow>(this.pool, { id, now }), id);
        return this.cancelWaiting(id, now);
      case "paused":
        return this.cancelWaiting(id, now);
      case "running":
        return this.one(Q.markCancel.run<JobRow>(this.pool, { id, now }), id);
      case "cancelled":
        return job;
      default:
        throw new PulseError("INVALID_STATE", `job ${id} is already ${job.status}; only queued, paused or running jobs can be cancelled`);
    }
  }

  /** Cancels a waiting job; when another host claimed it meanwhile, asks its owner to (as for a running job). */
  private async cancelWaiting(id: string, now: number): Promise<PulseJob> {
    const { rows } = await Q.cancelWaiting.run<JobRow>(this.pool, { id, now });
    return rows[0] ? toJob(rows[0]) : this.requestCancel(id, now);
  }

  async retry(id: string, now: number): Promise<PulseJob> {
    const { rows } = await Q.retry.run<JobRow>(this.pool, { id, now });
    if (rows[0]) {
      const job = toJob(rows[0]);
      await this.notify(this.pool, [job]);
      return job;
    }
    const job = await this.mustGet(id);
    throw new PulseError("INVALID_STATE", `job ${id} is ${job.status}; only failed or cancelled jobs can be retried`);
  }

  async pause(id: string, now: number, owner?: string): Promise<PulseJob> {
    const { rows } = await Q.pause.run<JobRow>(this.pool, { id, now, owner: owner ?? null });
    if (rows[0]) return toJob(rows[0]);
    const job = await this.mustGet(id);
    if (job.status === "paused") return job;
    if (job.status === "queued") {
      throw new PulseError("INVALID_STATE", `job ${id} is claimed by worker ${job.leaseOwner} and about to start; it cannot be paused now`, {
        hint: "cancel it instead, or pause it through the host that runs it",
      });
    }
    throw new PulseError("INVALID_STATE", `job ${id} is ${job.status}; only queued jobs can be paused`);
  }

  async resume(id: string, now: number): Promise<PulseJob> {
    return this.transition(id, "paused", "queued", now, "resumed");
  }

  private async transition(id: string, from: JobStatus, to: JobStatus, now: number, verb: string): Promise<PulseJob> {
    const { rows } = await Q.transition.run<JobRow>(this.pool, { id, from, to, now });
    if (rows[0]) {
      const job = toJob(rows[0]);
      await this.notify(this.pool, [job]);
      return job;
    }
    const job = await this.mustGet(id);
    if (job.status === to) return job;
    throw new PulseError("INVALID_STATE", `job ${id} is ${job.status}; only ${from} jobs can be ${verb}`);
  }

  async updateProgress(id: string, patch: ProgressPatch, now: number): Promise<PulseJob> {
    const { rows } = await Q.progress.run<JobRow>(this.pool, {
      id, now, pc: patch.progress ? patch.progress.current : null, pt: patch.progress ? patch.progress.total : null, cost: patch.costActual ?? null,
    });
    if (rows[0]) return toJob(rows[0]);
    const job = await this.mustGet(id);
    throw new PulseError("INVALID_STATE", `job ${id} is already ${job.status}; progress can only be updated before it ends`);
  }

  async appendLogs(id: string, entries: readonly JobLogEntry[]): Promise<void> {
    const job = await this.mustGet(id);
    await this.insertLogs(this.pool, id, job.attempts, entries);
  }

  async get(id: string): Promise<PulseJob | undefined> {
    const { rows } = await this.availability.run(() => Q.get.run<JobRow>(this.pool, { id }));
    return rows[0] && toJob(rows[0]);
  }

  async list(query: ListQuery = {}): Promise<PulseJob[]> {
    const status = query.status ?? "";
    if (status !== "" && !isJobStatus(status)) {
      throw new PulseError("INVALID_ARGUMENT", `unknown job status "${status}"`, { hint: "use queued, running, paused, completed, failed or cancelled" });
    }
    const limit = !query.limit || query.limit <= 0 ? DEFAULT_LIST_LIMIT : Math.min(Math.floor(query.limit), MAX_LIST_LIMIT);
    const { rows } = await this.availability.run(() => Q.list.run<JobRow>(this.pool, { status: status || null, handler: query.handler || null, limit }));
    return rows.map(toJob);
  }

  async logs(id: string): Promise<PulseLogEntry[]> {
    return (await Q.logs.run<PulseLogEntry & pg.QueryResultRow>(this.pool, { id })).rows;
  }

  async nextRunAt(now: number, handlers?: readonly string[]): Promise<number | undefined> {
    if (this.availability.waiting()) return undefined;
    const { rows } = await this.availability.run(() => Q.nextRunAt.run<{ t: number | null }>(this.pool, { now, handlers: handlers ?? null }));
    return rows[0]?.t ?? undefined;
  }

  async counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of (await Q.counts.run<{ status: string; n: number }>(this.pool)).rows) out[r.status] = r.n;
    return out;
  }

  private async mustGet(id: string): Promise<PulseJob> {
    const job = await this.get(id);
    if (!job) throw new PulseError("NOT_FOUND", `job ${id} not found`);
    return job;
  }

  private async one(result: Promise<pg.QueryResult<JobRow>>, id: string): Promise<PulseJob> {
    const row = (await result).rows[0];
    if (!row) throw new PulseError("NOT_FOUND", `job ${id} not found`);
    return toJob(row);
  }
}

/** Rows in dispatch order: priority (higher first), run time, insertion. */
function sortForDispatch(rows: JobRow[]): JobRow[] {
  return rows.sort((a, b) => b.priority - a.priority || a.run_at - b.run_at || a.seq - b.seq);
}
