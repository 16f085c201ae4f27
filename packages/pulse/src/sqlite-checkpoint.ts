import type Database from "better-sqlite3";

/** Rows changed on the connection since the last checkpoint before an idle queue runs one. */
const DEFAULT_MIN_CHANGES = 100;
/** How long nothing may be written before the checkpoint runs (ms). */
const DEFAULT_QUIET_MS = 5;

/** One row of `PRAGMA wal_checkpoint`: frames in the WAL (`log`) and how many were copied. */
interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

/**
 * A WAL checkpoint run while the queue is idle, so that SQLite's own auto-checkpoint (at 1 000
 * WAL pages, inside whichever commit crosses that line) seldom lands inside an enqueue.
 *
 * Why: on an idle queue, the slowest enqueues were the ones whose commit ran the auto-checkpoint
 * (8.6–18 ms transactions, each followed by a WAL restart;
 * bench/notes/07-claim-and-enqueue-transactions.md). A checkpoint on a worker thread, or on a
 * timer on the main thread, measured worse: the timer's checkpoint delayed whichever enqueue
 * arrived during it. This one runs only after the pool said it has nothing running or claimed
 * (`idle()`), and only when nothing was written on the connection for `quietMs` since. An
 * enqueue arriving during it waits for it, as it waited for the auto-checkpoint before; the
 * checkpoint is PASSIVE, so readers and other connections are never blocked, and nothing about
 * durability changes (a checkpoint only copies committed pages from the WAL into the database
 * file).
 *
 * Its threshold is rows changed on the connection (`total_changes()`, ATS writes on the shared
 * connection included), a cheap stand-in for WAL pages: an idle job changes two rows (its insert
 * and its end) and writes about nine pages, so 100 changes keep the WAL well under the
 * auto-checkpoint's 1 000 pages. The auto-checkpoint setting is left alone (the connection is
 * shared), so under steady load, when the pool is never idle, nothing changes.
 *
 * After a checkpoint that copied the whole WAL, the next write on the file restarts the WAL: it
 * writes a new WAL header and fsyncs the WAL before its first frame (even at `synchronous =
 * NORMAL`; strace shows the `fsync`), 1.0–1.5 ms on this machine, which the next enqueue used to
 * pay. So, still while idle, one turn of the event loop later (an enqueue that arrived during
 * the checkpoint goes first and restarts the WAL itself), a write that changes nothing restarts
 * it here: `PRAGMA user_version` set to the value it has, in an IMMEDIATE transaction. It dirties
 * the database header page (one WAL frame); no row, schema or version changes, and
 * `total_changes()` does not count it.
 */
export class IdleCheckpoint {
  private readonly totalChanges: Database.Statement;
  private atLastCheckpoint = 0;
  private idleAt = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Checkpoints run (for tests and diagnostics). */
  runs = 0;
  /** WAL restarts this did after its checkpoints (for tests and diagnostics). */
  restarts = 0;
  private waiters: (() => void)[] = [];
  private restartWaiters: ((restarted: boolean) => void)[] = [];
  private restartPending: NodeJS.Immediate | undefined;
  private readonly userVersion: Database.Statement;
  private readonly busyTimeout: Database.Statement;
  private readonly restartTx: () => void;

  constructor(
    private readonly db: Database.Database,
    private readonly minChanges = DEFAULT_MIN_CHANGES,
    private readonly quietMs = DEFAULT_QUIET_MS,
  ) {
    this.totalChanges = db.prepare("SELECT total_changes()").pluck();
    this.userVersion = db.prepare("PRAGMA user_version").pluck();
    this.busyTimeout = db.prepare("PRAGMA busy_timeout").pluck();
    // A pragma cannot take a bound value: the SQL carries it (an integer read just before, in
    // the same write transaction, so no other connection can change it in between).
    this.restartTx = db.transaction(() => {
      db.exec(`PRAGMA user_version = ${Math.trunc(this.userVersion.get() as number)}`);
    }).immediate;
  }

  /** The pool has nothing running or claimed: checkpoint after a quiet moment if enough was written. */
  idle(): void {
    if (!this.db.open) return;
    const at = this.changes();
    if (at - this.atLastCheckpoint < this.minChanges) return;
    // The latest idle moment is the one the quiet period counts from (a timer may be pending).
    this.idleAt = at;
    if (this.timer) return;
    this.timer = setTimeout(() => this.run(), this.quietMs);
    this.timer.unref();
  }

  private run(): void {
    this.timer = undefined;
    // Something was written since the pool went idle: not quiet; the next idle() tries again.
    if (!this.db.open || this.changes() !== this.idleAt) return;
    let result: CheckpointResult | undefined;
    try {
      result = (this.db.pragma("wal_checkpoint(PASSIVE)") as CheckpointResult[])[0];
    } catch {
      // Busy or closing: SQLite's auto-checkpoint still runs, as it always did.
      return;
    }
    this.atLastCheckpoint = this.idleAt;
    this.runs++;
    // Only a WAL copied to its last frame is restarted by the next write; a partial one (a
    // reader on another connection held frames back) is appended to, with no fsync.
    if (result && result.log > 0 && result.checkpointed === result.log && !this.restartPending) {
      this.restartPending = setImmediate(() => this.restart());
      this.restartPending.unref();
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Restarts the emptied WAL unless a write since the checkpoint already did. */
  private restart(): void {
    this.restartPending = undefined;
    let restarted = false;
    if (this.db.open && this.changes() === this.idleAt) {
      // Housekeeping must not wait for another connection's write lock (the host's busy
      // timeout is 5 s, spent blocking the event loop): busy means skip it.
      const timeout = this.busyTimeout.get() as number;
      this.db.pragma("busy_timeout = 0");
      try {
        this.restartTx();
        restarted = true;
        this.restarts++;
      } catch {
        // Busy or closing: the next write restarts the WAL, as it did before.
      } finally {
        if (this.db.open) this.db.pragma(`busy_timeout = ${Math.trunc(timeout)}`);
      }
    }
    const waiters = this.restartWaiters;
    this.restartWaiters = [];
    for (const w of waiters) w(restarted);
  }

  /** Resolves after the next checkpoint this runs. */
  whenRun(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Resolves after the next WAL restart attempt that follows a checkpoint: true when it
   * restarted the WAL, false when it was skipped (a write came first, or the database was busy).
   */
  whenRestartTried(): Promise<boolean> {
    return new Promise((resolve) => this.restartWaiters.push(resolve));
  }

  /** Cancels a pending checkpoint or restart (the pool stops). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.restartPending) clearImmediate(this.restartPending);
    this.restartPending = undefined;
  }

  private changes(): number {
    return this.totalChanges.get() as number;
  }
}
