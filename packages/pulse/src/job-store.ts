import type { JobLogEntry } from "@qntx/protocol";
import type { JobProgress, ListQuery, NewJobRecord, PulseJob, PulseLogEntry } from "./types.js";

/**
 * Identifies one run of a job: the worker that claimed it and the attempt number it got.
 * Every write that ends a run is fenced by it, so a worker whose lease expired (and whose
 * job was re-claimed meanwhile) cannot overwrite the newer run's outcome. A job claimed ahead
 * (reserved, still `queued`) has the fence of the run it will become: `attempt` is its stored
 * attempts + 1.
 */
export interface Fence {
  id: string;
  owner: string;
  attempt: number;
}

/** What a run produced, stored with its outcome. Undefined fields keep the stored value. */
export interface RunOutput {
  result?: Buffer | undefined;
  progress?: JobProgress | undefined;
  costActual?: number | undefined;
  pluginVersion?: string | undefined;
  logs?: readonly JobLogEntry[] | undefined;
}

/**
 * A write of the worker pool, batched with others in one transaction. The end of one run:
 * `fail` re-queues at `retryAt`, or fails for good when it is undefined (a job whose cancel
 * was requested ends `cancelled` either way); `release` gives the job back without counting
 * the attempt (used by a pool that stops; with `defer`, not before `defer.runAt`, the reason
 * stored as its error and logged: an executor's JobDeferred). For a job claimed ahead (reserved): `start` makes
 * it `running` (attempt counted) once its run has begun, written with the endings of the runs
 * before it; `unreserve` gives it back unstarted (`cancelled` when a cancel was asked). `job`
 * is the job as claimed: the store returns it updated rather than reading the whole row back
 * (the hot path); a `start` returns nothing (the pool announced the run when it began).
 */
export type FinishOp =
  | { kind: "complete"; fence: Fence; job: PulseJob; output: RunOutput }
  | { kind: "fail"; fence: Fence; job: PulseJob; error: string; retryAt: number | undefined; output?: RunOutput | undefined }
  | { kind: "cancel"; fence: Fence; job: PulseJob; reason: string }
  | { kind: "release"; fence: Fence; job: PulseJob; defer?: { runAt: number; reason: string; log: JobLogEntry } | undefined }
  | { kind: "start"; fence: Fence; job: PulseJob }
  | { kind: "unreserve"; fence: Fence; job: PulseJob };

/** A claim to run in the same transaction as a batch of run endings (see finishAndClaim). */
export interface ClaimRequest {
  owner: string;
  /** Jobs to claim as `running` (they start at once). */
  limit: number;
  leaseMs: number;
  handlers?: readonly string[] | undefined;
  /**
   * Jobs to claim ahead after those (dispatch-ahead): leased to `owner` but left `queued`,
   * attempt uncounted, so that `running` only ever counts jobs that run. Default 0.
   */
  reserve?: number | undefined;
}

/** Result of a batch lease renewal. */
export interface RenewResult {
  /** Jobs the worker no longer holds (expired and re-queued, or finished elsewhere). */
  lost: string[];
  /** Jobs still held whose cancel was requested. */
  cancelRequested: string[];
}

/** A progress/cost update from a plugin while its job runs (UpdateJob). */
export interface ProgressPatch {
  progress?: JobProgress | undefined;
  costActual?: number | undefined;
}

/**
 * Storage boundary of Pulse. Everything the pool, scheduler and facade need, and nothing
 * SQLite-specific, so a PostgreSQL store can slot in: methods are async, batches are explicit
 * (claim up to `limit` in one statement, finish many runs in one transaction), and handler
 * eligibility is a list (`= ANY($1)` in SQL) rather than a JS predicate.
 *
 * State changes that are refused throw `PulseError` (`NOT_FOUND`, `INVALID_STATE`,
 * `INVALID_ARGUMENT`). Fenced writes never throw for a lost fence: they skip the row.
 */
export interface JobStore {
  /** Inserts jobs in one transaction. A duplicate id is `INVALID_ARGUMENT`. */
  enqueue(jobs: readonly NewJobRecord[]): Promise<PulseJob[]>;
  /**
   * `enqueue(jobs)` then `claim(...)` in ONE transaction: an idle pool runs a new job without
   * a second commit (the enqueue → start latency path).
   */
  enqueueAndClaim(jobs: readonly NewJobRecord[], claim: ClaimRequest, now: number): Promise<{ enqueued: PulseJob[]; claimed: PulseJob[] }>;
  /**
   * Claims up to `limit` queued jobs whose `run_at <= now`, in dispatch order (priority desc,
   * run_at, insertion), restricted to `handlers` (qualified names) when given. Claimed jobs
   * become `running` with attempts+1 and a lease for `owner` until `now + leaseMs`.
   */
  claim(owner: string, limit: number, leaseMs: number, now: number, handlers?: readonly string[]): Promise<PulseJob[]>;
  /** Extends the leases `owner` holds; reports the ones it lost and the ones asked to cancel. */
  renewLeases(owner: string, fences: readonly Fence[], leaseMs: number, now: number): Promise<RenewResult>;
  /** Ends runs in one transaction; returns the updated jobs (ops whose fence no longer holds are skipped). */
  finish(ops: readonly FinishOp[], now: number): Promise<PulseJob[]>;
  /**
   * `finish(ops)` then `claim(...)` in ONE transaction: the worker pool's hot path (one commit
   * per turn of the event loop instead of two).
   */
  finishAndClaim(ops: readonly FinishOp[], claim: ClaimRequest | undefined, now: number): Promise<{ finished: PulseJob[]; claimed: PulseJob[] }>;
  /**
   * Running jobs whose lease expired go back to queued (or failed when out of attempts,
   * cancelled when asked); reservations that expired are dropped (the job stays queued).
   */
  expireLeases(now: number): Promise<PulseJob[]>;
  /** Like expireLeases for every running or reserved job whose owner does not start with `ownerPrefix` (start-up recovery). */
  recoverAbandoned(ownerPrefix: string, now: number): Promise<PulseJob[]>;
  /**
   * queued/paused → cancelled now; running, or reserved by a pool → cancelRequested set (the
   * owner ends it); cancelled → unchanged.
   */
  requestCancel(id: string, now: number): Promise<PulseJob>;
  /** failed/cancelled → queued with attempts reset. */
  retry(id: string, now: number): Promise<PulseJob>;
  /**
   * queued → paused (idempotent). A job reserved by a pool is paused only when `owner` is that
   * pool (which gives up the reservation); otherwise INVALID_STATE.
   */
  pause(id: string, now: number, owner?: string): Promise<PulseJob>;
  /** paused → queued (idempotent). */
  resume(id: string, now: number): Promise<PulseJob>;
  /** Progress/cost of a job that has not finished. */
  updateProgress(id: string, patch: ProgressPatch, now: number): Promise<PulseJob>;
  /** Appends log lines to a job (attempt = its current attempt). */
  appendLogs(id: string, entries: readonly JobLogEntry[]): Promise<void>;
  get(id: string): Promise<PulseJob | undefined>;
  list(query?: ListQuery): Promise<PulseJob[]>;
  logs(id: string): Promise<PulseLogEntry[]>;
  /** Earliest `run_at` of a queued job for `handlers` later than `now` (to arm a timer), if any. */
  nextRunAt(now: number, handlers?: readonly string[]): Promise<number | undefined>;
  /** Number of jobs per status. */
  counts(): Promise<Record<string, number>>;
  /**
   * True when several hosts share the store (PostgreSQL): a job leased by another owner may be
   * running on a live host, so start-up recovery takes only expired leases (`expireLeases`),
   * never `recoverAbandoned`.
   */
  readonly shared?: boolean;
  /**
   * Subscribes to jobs enqueued by other hosts (PostgreSQL's NOTIFY): `runAt` is the earliest
   * run time of the new jobs, undefined when some may have been missed. Returns the removal.
   */
  onNewJobs?(listener: (runAt: number | undefined) => void): () => void;
  /**
   * Optional hint from the worker pool: it has nothing running or claimed, and its last
   * endings are written. A store may do its own upkeep then (the SQLite store checkpoints its WAL).
   */
  idle?(): void;
}
