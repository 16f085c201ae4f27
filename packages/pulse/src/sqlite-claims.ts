import type Database from "better-sqlite3";
import type { ClaimRequest } from "./job-store.js";
import { CLAIM_COLUMNS, INSERT_RUNNING_COLUMNS, INSERT_RUNNING_VALUES, claimedJob, newRunningJob, reservedJob, toJob, type JobRow, type Statements } from "./sqlite-statements.js";
import type { NewJobRecord, PulseJob } from "./types.js";

/** Prepared claim statements kept at most (one per handler count and limit). */
const MAX_STATEMENTS = 256;

/**
 * Claiming in the SQLite store, always inside the caller's IMMEDIATE transaction: a SELECT of
 * the next rows in dispatch order, then one UPDATE per row by seq.
 *
 * Why this shape (SQLite 3.53.2, measured): the single statement UPDATE … WHERE seq IN
 * (SELECT …) RETURNING * cost 0.5–1.2 ms per call even when it claimed nothing, most of an
 * idle queue's enqueue → dispatch latency; this costs tens of µs. The handler filter is a list
 * of bound parameters (`handler IN (?, ?, …)`): with `json_each` the SELECT took 65 µs
 * more per call. Reading whole rows as objects cost about 20 µs each, so the claim reads the
 * columns it needs as raw arrays, and a claim made right after an insert selects only `seq`
 * and builds the jobs it just inserted from their records. On an idle queue a new job is
 * inserted straight as `running` with its lease, the check that nothing is waiting inside the
 * INSERT (`insertRunningIfNoneWaiting`): measured back to back, one such INSERT cost about
 * 49 µs against 61 µs for INSERT + SELECT seq + UPDATE (and 62–72 µs for SELECT * of no rows
 * + a plain INSERT of a running row: reading with SELECT * cost more than the UPDATE saved).
 * Jobs claimed ahead (reserved: `queued` with a lease) are not claimable: every SELECT here
 * says `lease_owner IS NULL`, as the partial index `pulse_jobs_ready` does.
 */
export class SqliteClaims {
  private readonly picks = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly st: Statements,
  ) {}

  /**
   * Claims up to `c.limit` due jobs for `c.handlers` (all handlers when undefined), then
   * reserves up to `c.reserve` more, the next ones in dispatch order (see ClaimRequest).
   */
  claim(c: ClaimRequest, now: number): PulseJob[] {
    const reserve = c.reserve ?? 0;
    if (c.limit + reserve <= 0 || (c.handlers && c.handlers.length === 0)) return [];
    const exp = now + c.leaseMs;
    const out: PulseJob[] = [];
    let taken = 0;
    for (const row of this.pick("row", c.limit + reserve, c.handlers, now) as unknown[][]) {
      const seq = row[0] as number;
      if (taken < c.limit) {
        if (this.takeSeq(seq, c.owner, exp, now)) {
          out.push(claimedJob(row, c.owner, exp, now));
          taken++;
        }
      } else if (this.st.reserveRow.run({ seq, owner: c.owner, exp }).changes === 1) {
        out.push(reservedJob(row, c.owner, exp, now));
      }
    }
    return out;
  }

  /**
   * Inserts a new job straight as `running`, leased to `c.owner` (`args`: `insertRunningArgs`),
   * in one statement — only when no due job for `c.handlers` is waiting, since a claim would
   * have to consider those first. Returns the new row's seq, or undefined having written nothing.
   */
  insertRunningIfNoneWaiting(args: readonly unknown[], c: ClaimRequest, now: number): number | undefined {
    const n = c.handlers?.length;
    const key = `insert ${n ?? "any"}`;
    let statement = this.picks.get(key);
    if (!statement) {
      // Positional throughout (see INSERT_RUNNING_VALUES): the check binds `now`, then the handlers.
      statement = this.db.prepare(`
        INSERT INTO pulse_jobs (${INSERT_RUNNING_COLUMNS}) SELECT ${INSERT_RUNNING_VALUES}
        WHERE NOT EXISTS (SELECT 1 FROM pulse_jobs INDEXED BY pulse_jobs_ready
          WHERE status = 'queued' AND lease_owner IS NULL AND run_at <= ? ${handlerFilter(n)})`);
      this.picks.set(key, statement);
    }
    // better-sqlite3 binds the elements of array arguments in order.
    const r = statement.run(args, now, c.handlers ?? []);
    return r.changes === 1 ? Number(r.lastInsertRowid) : undefined;
  }

  /** Like `claim` (without reserving), right after inserting `fresh` (seq → record): those are not read back. */
  claimAfterInsert(c: ClaimRequest, now: number, fresh: ReadonlyMap<number, NewJobRecord>): PulseJob[] {
    if (c.limit <= 0 || (c.handlers && c.handlers.length === 0)) return [];
    const seqs = this.pick("seq", c.limit, c.handlers, now) as number[];
    const exp = now + c.leaseMs;
    const out: PulseJob[] = [];
    for (const seq of seqs) {
      if (!this.takeSeq(seq, c.owner, exp, now)) continue;
      const record = fresh.get(seq);
      if (!record) {
        out.push(toJob(this.st.bySeq.get(seq) as JobRow));
        continue;
      }
      out.push(newRunningJob(record, c.owner, exp, now));
    }
    return out;
  }

  private takeSeq(seq: number, owner: string, exp: number, now: number): boolean {
    return this.st.claimRow.run({ seq, owner, exp, now }).changes === 1;
  }

  /**
   * The claim SELECT of `CLAIM_COLUMNS` as raw arrays ("row") or of seq alone, a statement per
   * handler count and limit, prepared once. The limit is written into the SQL, not bound:
   * measured after a 20 ms gap, a claim cost 105–143 µs with `LIMIT @limit` and 37–43 µs with
   * the number written in, the same difference with no rows to claim. Likely cause (inferred,
   * re-prepares not counted): SQLite's planner uses a bound LIMIT's value, so the statement is
   * re-prepared each time that parameter is bound again. Limits are small (at most twice the
   * pool's concurrency), so there are few statements.
   */
  private pick(columns: "row" | "seq", limit: number, handlers: readonly string[] | undefined, now: number): unknown[] {
    if (!Number.isSafeInteger(limit)) throw new RangeError(`a claim limit must be an integer, got ${limit}`);
    const n = handlers?.length;
    const key = `${columns} ${n ?? "any"} ${limit}`;
    let statement = this.picks.get(key);
    if (!statement) {
      statement = this.db.prepare(`
        SELECT ${columns === "row" ? CLAIM_COLUMNS : "seq"} FROM pulse_jobs INDEXED BY pulse_jobs_ready
        WHERE status = 'queued' AND lease_owner IS NULL AND run_at <= ? ${handlerFilter(n)}
        ORDER BY priority DESC, run_at, seq LIMIT ${limit}`);
      if (columns === "seq") statement.pluck();
      else statement.raw(true);
      // Bounded, for callers of `JobStore.claim` that vary the limit widely.
      if (this.picks.size >= MAX_STATEMENTS) this.picks.clear();
      this.picks.set(key, statement);
    }
    // better-sqlite3 binds the elements of array arguments in order: `now`, then the handlers.
    return statement.all(now, handlers ?? []);
  }
}

/** `AND handler IN (?, …)` for `n` handlers, bound by position after `now` ("" for all). */
function handlerFilter(n: number | undefined): string {
  return n === undefined ? "" : `AND handler IN (${Array.from({ length: n }, () => "?").join(", ")})`;
}
