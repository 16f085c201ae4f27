import type Database from "better-sqlite3";
import type { JobLogEntry } from "@qntx/protocol";
import { PulseError } from "./errors.js";
import type { ClaimRequest, Fence, FinishOp, JobStore, ProgressPatch, RenewResult } from "./job-store.js";
import { migrate } from "./migrations.js";
import { PULSE_MIGRATIONS } from "./schema.js";
import { IdleCheckpoint } from "./sqlite-checkpoint.js";
import { SqliteClaims } from "./sqlite-claims.js";
import { endedJob, newJob, newRunningJob, toJob, type EndedRow, type JobRow } from "./job-rows.js";
import { insertArgs, insertRunningArgs, outputParams, prepare, type Statements } from "./sqlite-statements.js";
import { isJobStatus, type JobStatus, type ListQuery, type NewJobRecord, type PulseJob, type PulseLogEntry } from "./types.js";

const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 10_000;

/**
 * SQLite implementation of {@link JobStore} on a better-sqlite3 connection (which may be
 * shared with other packages: tables are prefixed `pulse_`, migrations are namespace "pulse").
 * better-sqlite3 is synchronous; every method does one short statement or transaction.
 * Set WAL and `synchronous = NORMAL` on the connection for throughput (the host does).
 */
export class SqliteJobStore implements JobStore {
  readonly db: Database.Database;
  private readonly st: Statements;
  private readonly claims: SqliteClaims;
  /** The WAL checkpoint run when the pool goes idle (see IdleCheckpoint). */
  readonly checkpoint: IdleCheckpoint;
  private readonly finishTx: (ops: readonly FinishOp[], now: number) => PulseJob[];
  private readonly renewTx: (owner: string, fences: readonly Fence[], exp: number) => RenewResult;
  private readonly insertTx: (jobs: readonly NewJobRecord[]) => PulseJob[];
  private readonly finishClaimTx: (ops: readonly FinishOp[], claim: ClaimRequest, now: number) => { finished: PulseJob[]; claimed: PulseJob[] };
  private readonly claimTx: (claim: ClaimRequest, now: number) => PulseJob[];
  private readonly insertClaimTx: (jobs: readonly NewJobRecord[], claim: ClaimRequest, now: number) => { enqueued: PulseJob[]; claimed: PulseJob[] };
  private readonly expireTx: (now: number) => PulseJob[];
  private readonly recoverTx: (prefix: string, now: number) => PulseJob[];

  constructor(db: Database.Database) {
    this.db = db;
    migrate(db, "pulse", PULSE_MIGRATIONS);
    this.st = prepare(db);
    this.claims = new SqliteClaims(db, this.st);
    this.checkpoint = new IdleCheckpoint(db);
    this.insertTx = db.transaction((jobs: readonly NewJobRecord[]) => this.insertSync(jobs));
    this.finishTx = db.transaction((ops: readonly FinishOp[], now: number) => this.finishSync(ops, now));
    // Claims read then write: IMMEDIATE takes the write lock first, so no other connection can
    // claim the same rows between the SELECT and the UPDATEs.
    const finishClaim = db.transaction((ops: readonly FinishOp[], c: ClaimRequest, now: number) => ({
      finished: this.finishSync(ops, now),
      claimed: this.claims.claim(c, now),
    }));
    this.finishClaimTx = finishClaim.immediate;
    const claim = db.transaction((c: ClaimRequest, now: number) => this.claims.claim(c, now));
    this.claimTx = claim.immediate;
    const insertClaim = db.transaction((jobs: readonly NewJobRecord[], c: ClaimRequest, now: number) => {
      const direct = this.insertClaimingAll(jobs, c, now);
      if (direct) return direct;
      const fresh = new Map<number, NewJobRecord>();
      const enqueued = this.insertRows(jobs, fresh);
      return { enqueued, claimed: this.claims.claimAfterInsert(c, now, fresh) };
    });
    this.insertClaimTx = insertClaim.immediate;
    // Running jobs and reservations in one commit.
    this.expireTx = db.transaction((now: number) => [
      ...(this.st.expire.all({ now, reason: "lease expired: its worker stopped renewing it" }) as JobRow[]).map(toJob),
      ...(this.st.expireReserved.all({ now }) as JobRow[]).map(toJob),
    ]);
    this.recoverTx = db.transaction((prefix: string, now: number) => [
      ...(this.st.recover.all({ now, reason: "recovered at start-up: the host that ran it is gone", prefix }) as JobRow[]).map(toJob),
      ...(this.st.recoverReserved.all({ now, prefix }) as JobRow[]).map(toJob),
    ]);
    this.renewTx = db.transaction((owner: string, fences: readonly Fence[], exp: number) => {
      const res: RenewResult = { lost: [], cancelRequested: [] };
      for (const f of fences) {
        const r = this.st.renew.get({ id: f.id, owner, attempt: f.attempt, exp }) as { cancel_requested: number } | undefined;
        if (!r) res.lost.push(f.id);
        else if (r.cancel_requested) res.cancelRequested.push(f.id);
      }
      return res;
    });
  }

  /**
   * Inserts rows without opening a transaction: for callers already inside one on the same
   * connection (the SQLite schedule store fires a schedule and inserts its job atomically).
   */
  insertSync(jobs: readonly NewJobRecord[]): PulseJob[] {
    return this.insertRows(jobs);
  }

  /**
   * The enqueue's claim on an idle queue: when every new job is due for the claim, they fit in
   * it, and no due job is waiting for its handlers (checked inside the first INSERT), the new
   * jobs are inserted straight as `running` with their lease — one statement each instead of an
   * INSERT, the claim's SELECT and an UPDATE. Undefined, having written nothing, otherwise:
   * then the claim chooses in dispatch order among old and new jobs after the insert.
   */
  private insertClaimingAll(jobs: readonly NewJobRecord[], c: ClaimRequest, now: number): { enqueued: PulseJob[]; claimed: PulseJob[] } | undefined {
    if (jobs.length === 0 || jobs.length > c.limit || (c.handlers && c.handlers.length === 0)) return undefined;
    for (const j of jobs) if (j.status !== "queued" || j.runAt > now || (c.handlers && !c.handlers.includes(j.handler))) return undefined;
    const exp = now + c.leaseMs;
    const enqueued: PulseJob[] = [];
    const claimed: PulseJob[] = [];
    for (const j of jobs) {
      const args = insertRunningArgs(j, c.owner, exp, now);
      if (enqueued.length === 0) {
        // Nothing queued was added since, so the check holds for the rest of the batch.
        if (this.guarded(() => this.claims.insertRunningIfNoneWaiting(args, c, now), j) === undefined) return undefined;
      } else {
        this.guarded(() => this.st.insertRunning.run(args), j);
      }
      enqueued.push(newJob(j));
      claimed.push(newRunningJob(j, c.owner, exp, now));
    }
    // Dispatch order (priority, then run_at; sort is stable, so insertion order among equals).
    if (claimed.length > 1) claimed.sort((x, y) => y.priority - x.priority || x.runAt - y.runAt);
    return { enqueued, claimed };
  }

  /** Inserts rows (inside the caller's transaction); `seqs` gets each row's seq → its record. */
  private insertRows(jobs: readonly NewJobRecord[], seqs?: Map<number, NewJobRecord>): PulseJob[] {
    const out: PulseJob[] = [];
    for (const j of jobs) {
      const { lastInsertRowid } = this.guarded(() => this.st.insert.run(insertArgs(j)), j);
      seqs?.set(Number(lastInsertRowid), j);
      out.push(newJob(j));
    }
    return out;
  }

  /** Runs an insert of `j`, turning a duplicate id into a clear error. */
  private guarded<T>(insert: () => T, j: NewJobRecord): T {
    try {
      return insert();
    } catch (err) {
      if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") {
        throw new PulseError("INVALID_ARGUMENT", `job id "${j.id}" already exists`, { hint: "leave id empty to get a generated one", cause: err });
      }
      throw err;
    }
  }

  idle(): void {
    this.checkpoint.idle();
  }

  async enqueue(jobs: readonly NewJobRecord[]): Promise<PulseJob[]> {
    return jobs.length === 1 ? this.insertSync(jobs) : this.insertTx(jobs);
  }

  async enqueueAndClaim(jobs: readonly NewJobRecord[], claim: ClaimRequest, now: number): Promise<{ enqueued: PulseJob[]; claimed: PulseJob[] }> {
    return this.insertClaimTx(jobs, claim, now);
  }

  async claim(owner: string, limit: number, leaseMs: number, now: number, handlers?: readonly string[]): Promise<PulseJob[]> {
    if (limit <= 0 || (handlers && handlers.length === 0)) return [];
    return this.claimTx({ owner, limit, leaseMs, handlers }, now);
  }

  async finishAndClaim(ops: readonly FinishOp[], claim: ClaimRequest | undefined, now: number): Promise<{ finished: PulseJob[]; claimed: PulseJob[] }> {
    if (!claim) return { finished: await this.finish(ops, now), claimed: [] };
    return this.finishClaimTx(ops, claim, now);
  }

  async renewLeases(owner: string, fences: readonly Fence[], leaseMs: number, now: number): Promise<RenewResult> {
    if (fences.length === 0) return { lost: [], cancelRequested: [] };
    return this.renewTx(owner, fences, now + leaseMs);
  }

  async finish(ops: readonly FinishOp[], now: number): Promise<PulseJob[]> {
    return ops.length === 0 ? [] : this.finishTx(ops, now);
  }

  private finishSync(ops: readonly FinishOp[], now: number): PulseJob[] {
    const out: PulseJob[] = [];
    for (const op of ops) {
      const job = this.finishOne(op, now);
      if (job) out.push(job);
    }
    return out;
  }

  private finishOne(op: FinishOp, now: number): PulseJob | undefined {
    const fence = { id: op.fence.id, owner: op.fence.owner, attempt: op.fence.attempt, now };
    let row: EndedRow | undefined;
    switch (op.kind) {
      case "complete":
        row = this.st.complete.get({ ...fence, ...outputParams(op.output) }) as EndedRow | undefined;
        if (row) this.insertLogs(op.fence.id, op.fence.attempt, op.output.logs);
        break;
      case "fail":
        row = this.st.fail.get({ ...fence, ...outputParams(op.output), error: op.error, retryAt: op.retryAt ?? null }) as EndedRow | undefined;
        if (row) this.insertLogs(op.fence.id, op.fence.attempt, op.output?.logs);
        break;
      case "cancel":
        row = this.st.cancelRun.get({ ...fence, error: op.reason }) as EndedRow | undefined;
        break;
      case "release":
        row = this.st.release.get({ ...fence, runAt: op.defer?.runAt ?? null, reason: op.defer?.reason ?? null }) as EndedRow | undefined;
        // The attempt was not counted: the line goes with the attempt the job has now.
        if (row && op.defer) this.insertLogs(op.fence.id, op.fence.attempt - 1, [op.defer.log]);
        break;
      case "start":
        // A lost reservation writes nothing here; the pool learns of it at its next renewal.
        this.st.start.run(fence);
        return undefined;
      case "unreserve":
        row = this.st.unreserve.get(fence) as EndedRow | undefined;
        break;
    }
    return row && endedJob(op, row);
  }

  private insertLogs(jobId: string, attempt: number, logs: readonly JobLogEntry[] | undefined): void {
    if (!logs) return;
    for (const e of logs) {
      this.st.insertLog.run(jobId, attempt, e.timestamp || new Date().toISOString(), e.level ?? "", e.message ?? "", e.stage ?? "", e.metadata ?? "");
    }
  }

  async expireLeases(now: number): Promise<PulseJob[]> {
    return this.expireTx(now);
  }

  async recoverAbandoned(ownerPrefix: string, now: number): Promise<PulseJob[]> {
    return this.recoverTx(ownerPrefix, now);
  }

  async requestCancel(id: string, now: number): Promise<PulseJob> {
    const job = this.mustGet(id);
    switch (job.status) {
      case "queued":
        // Reserved by a pool (claimed ahead): that pool gives it back as cancelled, so it never
        // starts a job already recorded cancelled.
        if (job.leaseOwner !== undefined) return toJob(this.st.markCancel.get({ id, now }) as JobRow);
        return toJob(this.st.cancelWaiting.get({ id, now }) as JobRow);
      case "paused":
        return toJob(this.st.cancelWaiting.get({ id, now }) as JobRow);
      case "running":
        return toJob(this.st.markCancel.get({ id, now }) as JobRow);
      case "cancelled":
        return job;
      default:
        throw new PulseError("INVALID_STATE", `job ${id} is already ${job.status}; only queued, paused or running jobs can be cancelled`);
    }
  }

  async retry(id: string, now: number): Promise<PulseJob> {
    const job = this.mustGet(id);
    if (job.status !== "failed" && job.status !== "cancelled") {
      throw new PulseError("INVALID_STATE", `job ${id} is ${job.status}; only failed or cancelled jobs can be retried`);
    }
    return toJob(this.st.retry.get({ id, now }) as JobRow);
  }

  async pause(id: string, now: number, owner?: string): Promise<PulseJob> {
    const row = this.st.pause.get({ id, now, owner: owner ?? null }) as JobRow | undefined;
    if (row) return toJob(row);
    const job = this.mustGet(id);
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

  private transition(id: string, from: JobStatus, to: JobStatus, now: number, verb: string): PulseJob {
    const row = this.st.transition.get({ id, from, to, now }) as JobRow | undefined;
    if (row) return toJob(row);
    const job = this.mustGet(id);
    if (job.status === to) return job;
    throw new PulseError("INVALID_STATE", `job ${id} is ${job.status}; only ${from} jobs can be ${verb}`);
  }

  async updateProgress(id: string, patch: ProgressPatch, now: number): Promise<PulseJob> {
    const row = this.st.progress.get({
      id,
      now,
      pc: patch.progress ? patch.progress.current : null,
      pt: patch.progress ? patch.progress.total : null,
      cost: patch.costActual ?? null,
    }) as JobRow | undefined;
    if (row) return toJob(row);
    const job = this.mustGet(id);
    throw new PulseError("INVALID_STATE", `job ${id} is already ${job.status}; progress can only be updated before it ends`);
  }

  async appendLogs(id: string, entries: readonly JobLogEntry[]): Promise<void> {
    const job = this.mustGet(id);
    this.db.transaction(() => this.insertLogs(id, job.attempts, entries))();
  }

  async get(id: string): Promise<PulseJob | undefined> {
    const row = this.st.get.get(id) as JobRow | undefined;
    return row && toJob(row);
  }

  async list(query: ListQuery = {}): Promise<PulseJob[]> {
    const status = query.status ?? "";
    if (status !== "" && !isJobStatus(status)) {
      throw new PulseError("INVALID_ARGUMENT", `unknown job status "${status}"`, { hint: "use queued, running, paused, completed, failed or cancelled" });
    }
    const limit = !query.limit || query.limit <= 0 ? DEFAULT_LIST_LIMIT : Math.min(Math.floor(query.limit), MAX_LIST_LIMIT);
    const params = { status, handler: query.handler || null, limit };
    const rows = (status ? this.st.listStatus : this.st.listAll).all(params) as JobRow[];
    return rows.map(toJob);
  }

  async logs(id: string): Promise<PulseLogEntry[]> {
    return this.st.logs.all(id) as PulseLogEntry[];
  }

  async nextRunAt(now: number, handlers?: readonly string[]): Promise<number | undefined> {
    const r = this.st.nextRunAt.get({ now, handlers: handlers ? JSON.stringify(handlers) : null }) as { t: number | null };
    return r.t ?? undefined;
  }

  async counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of this.st.counts.all() as { status: string; n: number }[]) out[r.status] = r.n;
    return out;
  }

  private mustGet(id: string): PulseJob {
    const row = this.st.get.get(id) as JobRow | undefined;
    if (!row) throw new PulseError("NOT_FOUND", `job ${id} not found`);
    return toJob(row);
  }
}
