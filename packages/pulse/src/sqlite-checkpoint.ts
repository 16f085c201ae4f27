import type Database from "better-sqlite3";

/** Rows changed on the connection since the last checkpoint before an idle queue runs one. */
const DEFAULT_MIN_CHANGES = 100;
/** How long nothing may be written before the checkpoint runs (ms). */
const DEFAULT_QUIET_MS = 5;

/**
 * A WAL checkpoint run while the queue is idle, so that SQLite's own auto-checkpoint (at 1 000
 * WAL pages, inside whichever commit crosses that line) seldom lands inside an enqueue.
 *
 * Why: on an idle queue, the slowest enqueues were the ones whose commit ran the
 * auto-checkpoint (8.6–18 ms transactions, each followed by a WAL restart; BENCHMARKS.md
 * finding 7). A checkpoint on a worker thread, or on a timer on the main thread, measured worse:
 * the timer's checkpoint delayed whichever enqueue arrived during it. This one runs only after
 * the pool said it has nothing running or claimed (`idle()`), and only when nothing was written
 * on the connection for `quietMs` since. An enqueue arriving during it waits for it, as it waited
 * for the auto-checkpoint before; the checkpoint is PASSIVE, so readers and other connections
 * are never blocked, and nothing about durability changes (a checkpoint only copies committed
 * pages from the WAL into the database file).
 *
 * Its threshold is rows changed on the connection (`total_changes()`, ATS writes on the shared
 * connection included), a cheap stand-in for WAL pages: an idle job changes two rows (its insert
 * and its end) and writes about nine pages, so 100 changes keep the WAL well under the
 * auto-checkpoint's 1 000 pages. The auto-checkpoint setting is left alone (the connection is
 * shared), so under steady load, when the pool is never idle, nothing changes.
 */
export class IdleCheckpoint {
  private readonly totalChanges: Database.Statement;
  private atLastCheckpoint = 0;
  private idleAt = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Checkpoints run (for tests and diagnostics). */
  runs = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly db: Database.Database,
    private readonly minChanges = DEFAULT_MIN_CHANGES,
    private readonly quietMs = DEFAULT_QUIET_MS,
  ) {
    this.totalChanges = db.prepare("SELECT total_changes()").pluck();
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
    try {
      this.db.pragma("wal_checkpoint(PASSIVE)");
    } catch {
      // Busy or closing: SQLite's auto-checkpoint still runs, as it always did.
      return;
    }
    this.atLastCheckpoint = this.idleAt;
    this.runs++;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves after the next checkpoint this runs. */
  whenRun(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Cancels a pending checkpoint (the pool stops). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private changes(): number {
    return this.totalChanges.get() as number;
  }
}
