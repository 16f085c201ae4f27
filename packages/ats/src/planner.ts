/**
 * The SQLite query planner: decides a plan with the shared choice (plan-choice.ts), pins it
 * in the SQL, and caches one prepared statement per query shape.
 *
 * The strategies (the PostgreSQL planner, pg-planner.ts, runs the same ones):
 * - `terms`: walk the posting list (term rows) of the most selective dimension. With ONE
 *   value the list is already ordered newest first, so the walk stops after `limit` hits, with
 *   no sort; with several values the hits (att, created_at) are deduplicated and sorted
 *   first. Other dimensions cost one key lookup each per candidate; time bounds are checked
 *   on the term row; only returned rows are read from `attestations`.
 * - `time`: the same, driven by the covering `(timestamp, created_at)` index range, when the
 *   time bounds are the most selective constraint.
 * - `scan`: walk `created_at` newest first and stop after `limit` matches. For no filter at
 *   all, or when matches are dense and the alternative would sort many rows (expected rows
 *   walked ≈ limit / match density).
 *
 * Expired attestations (schema.ts) are left out by one more condition, added only while the
 * store holds attestations with an expiry: without them the SQL is the same as before expiry
 * existed.
 */
import type { Statement } from "better-sqlite3";
import { ATTESTATION_COLUMNS, type AttestationRow } from "./codec.js";
import type { NormalizedFilter } from "./filter.js";
import type { SqliteDatabase } from "./open.js";
import { chooseSync, valuesOf, type Probe, type QueryPlan, type Strategy } from "./plan-choice.js";
import { Dim, DIM_NAMES, type DimName } from "./schema.js";

export type { QueryPlan, Strategy } from "./plan-choice.js";

/** Named parameters of every query statement (SQLite ignores the unused ones). */
type QueryParams = Record<string, string | number | bigint>;

/** A prepared query and its parameters, ready for `.all()` or `.iterate()`. */
export interface PreparedQuery {
  readonly plan: QueryPlan;
  readonly statement: Statement<[QueryParams], AttestationRow>;
  readonly params: QueryParams;
}

// int64 extremes as bigint, so an absent bound never excludes a row.
const MIN_TIME = -(2n ** 63n);
const MAX_TIME = 2n ** 63n - 1n;
const ORDER_NEWEST = "ORDER BY a.created_at DESC, a.seq DESC";

/**
 * Leaves out expired attestations: the seqs of stored, expired ones are a small set (the
 * sweep removes them), found on the partial `expires_at` index once per statement run.
 */
function notExpired(seq: string): string {
  return `${seq} NOT IN (SELECT seq FROM attestations WHERE expires_at IS NOT NULL AND expires_at <= @now)`;
}

/** `EXISTS` check of one dimension for the candidate whose (created_at, seq) are given. */
function hasTerm(dim: DimName, createdAt: string, seq: string): string {
  return (
    `EXISTS (SELECT 1 FROM attestation_terms AS x WHERE x.dim = ${Dim[dim]} ` +
    `AND x.value IN (SELECT value FROM json_each(@${dim})) AND x.created_at = ${createdAt} AND x.att = ${seq})`
  );
}

function where(timestamp: string, checks: readonly string[]): string {
  return [`${timestamp} BETWEEN @timeStart AND @timeEnd`, ...checks].join("\n  AND ");
}

/** Phase 2 of two-phase plans: fetch full rows for hits that arrive ordered (no re-sort). */
function fetchRows(hits: string): string {
  return (
    `SELECT ${ATTESTATION_COLUMNS}\nFROM (${hits}) AS hits\n` +
    `CROSS JOIN attestations AS a ON a.seq = hits.seq\nORDER BY hits.created_at DESC, hits.seq DESC`
  );
}

/** The statement of one plan shape; `expiring`: the store holds attestations with an expiry. */
function buildSql(strategy: Strategy, driver: DimName | undefined, checked: readonly DimName[], single: boolean, expiring: boolean): string {
  if (strategy === "terms") {
    const checks = checked.map((d) => hasTerm(d, "t.created_at", "t.att"));
    if (expiring) checks.push(notExpired("t.att"));
    const head = `FROM attestation_terms AS t WHERE t.dim = ${Dim[driver!]} AND `;
    if (single) {
      // One B-tree range, already newest first: the LIMIT stops the walk, nothing is sorted.
      return (
        `SELECT ${ATTESTATION_COLUMNS}\nFROM attestation_terms AS t\nCROSS JOIN attestations AS a ON a.seq = t.att\n` +
        `WHERE t.dim = ${Dim[driver!]} AND t.value = @driverValue\n  AND ${where("t.timestamp", checks)}\n` +
        `ORDER BY t.created_at DESC, t.att DESC\nLIMIT @limit`
      );
    }
    // Several values: an attestation may appear under two of them, hence DISTINCT.
    return fetchRows(
      `SELECT DISTINCT t.att AS seq, t.created_at ${head}t.value IN (SELECT value FROM json_each(@${driver}))\n` +
        `  AND ${where("t.timestamp", checks)}\nORDER BY t.created_at DESC, t.att DESC LIMIT @limit`,
    );
  }
  const checks = checked.map((d) => hasTerm(d, "a.created_at", "a.seq"));
  if (expiring) checks.push(notExpired("a.seq"));
  if (strategy === "time") {
    return fetchRows(
      `SELECT a.seq, a.created_at FROM attestations AS a INDEXED BY attestations_timestamp\n` +
        `WHERE ${where("a.timestamp", checks)}\n${ORDER_NEWEST} LIMIT @limit`,
    );
  }
  return (
    `SELECT ${ATTESTATION_COLUMNS}\nFROM attestations AS a INDEXED BY attestations_created_at\n` +
    `WHERE ${where("a.timestamp", checks)}\n${ORDER_NEWEST}\nLIMIT @limit`
  );
}

/** Plans filters against one connection; statements are prepared once per shape and reused. */
export class QueryPlanner {
  private readonly db: SqliteDatabase;
  private readonly statements = new Map<string, Statement<[QueryParams], AttestationRow>>();
  private readonly termProbe: Statement<[number, string, number], { n: number }>;
  private readonly timeProbe: Statement<[bigint | number, bigint | number, number], { n: number }>;
  private readonly sizeProbe: Statement<[], { n: number | null }>;
  private readonly expiringProbe: Statement<[], { one: number }>;

  /** @param db connection whose `ats` schema is migrated */
  constructor(db: SqliteDatabase) {
    this.db = db;
    this.termProbe = db.prepare(
      "SELECT count(*) AS n FROM (SELECT 1 FROM attestation_terms WHERE dim = ? AND value IN (SELECT value FROM json_each(?)) LIMIT ?)",
    );
    this.timeProbe = db.prepare(
      "SELECT count(*) AS n FROM (SELECT 1 FROM attestations INDEXED BY attestations_timestamp WHERE timestamp BETWEEN ? AND ? LIMIT ?)",
    );
    // max(seq) is one B-tree descent; count(*) would read the whole table.
    this.sizeProbe = db.prepare("SELECT max(seq) AS n FROM attestations");
    // One descent of the partial index: empty unless some attestation carries an expiry.
    this.expiringProbe = db.prepare("SELECT 1 AS one FROM attestations WHERE expires_at IS NOT NULL LIMIT 1");
  }

  /**
   * Decides the plan for `filter` and returns the statement to run with its parameters.
   * @param now unix ms: attestations that expired at or before it are left out
   */
  prepare(filter: NormalizedFilter, now: number): PreparedQuery {
    const timeStart = filter.timeStart ?? MIN_TIME;
    const timeEnd = filter.timeEnd ?? MAX_TIME;
    const params: QueryParams = { timeStart, timeEnd, limit: filter.limit > 0 ? filter.limit : -1, now }; // LIMIT -1 = none
    for (const { dim, values } of filter.dims) params[dim] = JSON.stringify(values);

    const { strategy, driver, estimates } = chooseSync(filter, (probe) => this.probe(probe, params, timeStart, timeEnd));
    const driverValues = driver === undefined ? undefined : valuesOf(filter, driver)!;
    const single = driverValues?.length === 1;
    if (single) params.driverValue = driverValues[0]!;
    const checked = DIM_NAMES.filter((d) => params[d] !== undefined && d !== driver);
    const expiring = this.expiringProbe.get() !== undefined;
    const key = `${strategy}|${driver ?? ""}|${single ? 1 : "n"}|${checked.join(",")}|${expiring ? "e" : ""}`;
    let statement = this.statements.get(key);
    if (statement === undefined) {
      statement = this.db.prepare<[QueryParams], AttestationRow>(buildSql(strategy, driver, checked, single, expiring));
      this.statements.set(key, statement);
    }
    return { plan: { strategy, driver, estimates, sql: statement.source }, statement, params };
  }

  private probe(probe: Probe, params: QueryParams, timeStart: number | bigint, timeEnd: number | bigint): number {
    switch (probe.kind) {
      case "size":
        return this.sizeProbe.get()?.n ?? 0;
      case "time":
        return this.timeProbe.get(timeStart, timeEnd, probe.cap)!.n;
      case "term":
        return this.termProbe.get(Dim[probe.dim], params[probe.dim] as string, probe.cap)!.n;
    }
  }
}
