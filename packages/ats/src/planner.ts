/**
 * Chooses how to answer a filter and caches one prepared statement per query shape.
 *
 * SQLite's own planner cannot know that subject "alice" has 10 rows while predicate "is" has
 * half the table (its statistics are per index, not per value), so we decide from cheap,
 * capped counts on the covering term index, and pin the plan in the SQL:
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
 */
import type { Statement } from "better-sqlite3";
import { ATTESTATION_COLUMNS, type AttestationRow } from "./codec.js";
import type { NormalizedFilter } from "./filter.js";
import type { SqliteDatabase } from "./open.js";
import { Dim, DIM_NAMES, type DimName } from "./schema.js";

/** How a query is executed; see the module comment. */
export type Strategy = "terms" | "time" | "scan";

/** The decision for one filter, for tests and debugging (`SqliteAttestationStore.explain`). */
export interface QueryPlan {
  readonly strategy: Strategy;
  /** The dimension that drives a `terms` plan. */
  readonly driver: DimName | undefined;
  /** Capped match counts that were probed, per dimension (and `time`). */
  readonly estimates: Readonly<Record<string, number>>;
  /** The SQL that runs. */
  readonly sql: string;
}

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
/** A driving set this small is cheap whatever else holds: stop probing. */
const SMALL_ENOUGH = 256;
/** A scan's cost depends on where matches lie in time, so it must look this much cheaper. */
const SCAN_SAFETY = 10;
const MIN_CAP = 256;
const MAX_CAP = 100_000;
const NO_LIMIT_CAP = 50_000;
/** Probe cap when all candidates are one-value dimensions and there is a limit. */
const ORDERED_CAP = 4_096;
// Subjects first: usually the most selective, which lets the probing stop early.
const PROBE_ORDER: readonly DimName[] = ["subjects", "contexts", "actors", "predicates"];
const ORDER_NEWEST = "ORDER BY a.created_at DESC, a.seq DESC";

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

function buildSql(strategy: Strategy, driver: DimName | undefined, checked: readonly DimName[], single: boolean): string {
  if (strategy === "terms") {
    const checks = checked.map((d) => hasTerm(d, "t.created_at", "t.att"));
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
  }

  /** Decides the plan for `filter` and returns the statement to run with its parameters. */
  prepare(filter: NormalizedFilter): PreparedQuery {
    const timeStart = filter.timeStart ?? MIN_TIME;
    const timeEnd = filter.timeEnd ?? MAX_TIME;
    const params: QueryParams = { timeStart, timeEnd, limit: filter.limit > 0 ? filter.limit : -1 }; // LIMIT -1 = none
    for (const { dim, values } of filter.dims) params[dim] = JSON.stringify(values);

    const { strategy, driver, estimates } = this.choose(filter, params, timeStart, timeEnd);
    const driverValues = driver === undefined ? undefined : filter.dims.find((d) => d.dim === driver)!.values;
    const single = driverValues?.length === 1;
    if (single) params.driverValue = driverValues[0]!;
    const checked = DIM_NAMES.filter((d) => params[d] !== undefined && d !== driver);
    const key = `${strategy}|${driver ?? ""}|${single ? 1 : "n"}|${checked.join(",")}`;
    let statement = this.statements.get(key);
    if (statement === undefined) {
      statement = this.db.prepare<[QueryParams], AttestationRow>(buildSql(strategy, driver, checked, single));
      this.statements.set(key, statement);
    }
    return { plan: { strategy, driver, estimates, sql: statement.source }, statement, params };
  }

  private choose(
    filter: NormalizedFilter,
    params: QueryParams,
    timeStart: number | bigint,
    timeEnd: number | bigint,
  ): { strategy: Strategy; driver: DimName | undefined; estimates: Record<string, number> } {
    const estimates: Record<string, number> = {};
    const hasTime = filter.timeStart !== undefined || filter.timeEnd !== undefined;
    if (filter.dims.length === 0 && !hasTime) return { strategy: "scan", driver: undefined, estimates };

    const limit = filter.limit;
    const single = (d: DimName): boolean => filter.dims.find((c) => c.dim === d)!.values.length === 1;
    const candidates: (DimName | "time")[] = PROBE_ORDER.filter((d) => params[d] !== undefined);
    if (hasTime) candidates.push("time");
    // One candidate walked in order needs no choice and no scan comparison: skip probing.
    if (candidates.length === 1 && candidates[0] !== "time" && single(candidates[0]!)) {
      return { strategy: "terms", driver: candidates[0], estimates };
    }
    const allSingle = candidates.every((c) => c !== "time" && single(c));

    const total = this.sizeProbe.get()?.n ?? 0;
    // A scan walks ~SAFETY * limit * total / n rows, a sorted driver ~n: they break even at
    // n = sqrt(SAFETY * limit * total); probe a little past it to be able to tell. When every
    // candidate is walked in order (no sort, stops at the limit) there is no scan to weigh,
    // and a small cap is enough to tell a selective dimension from a dense one.
    const cap = !(limit > 0)
      ? NO_LIMIT_CAP
      : allSingle
        ? ORDERED_CAP
        : Math.min(MAX_CAP, Math.max(MIN_CAP, Math.ceil(2 * Math.sqrt(SCAN_SAFETY * limit * total))));

    let best: { driver: DimName | "time"; n: number } | undefined;
    for (const candidate of candidates) {
      // Past the best so far only "bigger" matters: cap the probe there (bounds probing cost).
      const probeCap = Math.max(1, Math.min(cap, best?.n ?? cap));
      const n =
        candidate === "time"
          ? this.timeProbe.get(timeStart, timeEnd, probeCap)!.n
          : this.termProbe.get(Dim[candidate], params[candidate] as string, probeCap)!.n;
      estimates[candidate] = n;
      if (best === undefined || n < best.n) best = { driver: candidate, n };
      if (best.n <= SMALL_ENOUGH) break;
    }
    const chosen = best!;
    const sorted = chosen.driver === "time" || !single(chosen.driver);
    // A one-value driver is walked newest first and stops at the limit: a scan cannot beat
    // it. Otherwise its hits are sorted, and for a limit on dense matches a scan wins.
    if (sorted && limit > 0 && chosen.n > SMALL_ENOUGH && total > 0) {
      // Expected rows walked, assuming independent dimensions. Estimates are capped (too
      // low), which makes the scan look dearer than it is: we err towards the bounded plan.
      let density = 1;
      for (const n of Object.values(estimates)) density *= Math.min(1, n / total);
      const scanRows = density > 0 ? limit / density : Infinity;
      if (SCAN_SAFETY * scanRows < chosen.n) return { strategy: "scan", driver: undefined, estimates };
    }
    return chosen.driver === "time"
      ? { strategy: "time", driver: undefined, estimates }
      : { strategy: "terms", driver: chosen.driver, estimates };
  }
}
