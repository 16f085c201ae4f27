/**
 * The PostgreSQL query planner: the same choice as the SQLite store (plan-choice.ts, from
 * capped counts on the term index), the same three strategies (planner.ts), written so that
 * PostgreSQL's own planner keeps their shape:
 * - each other-dimension check is `EXISTS (… OFFSET 0)`: the OFFSET keeps PostgreSQL from
 *   turning it into a hash semi-join that reads the whole posting list of the checked value
 *   and sorts (measured: 9.8 ms against 1.0 ms for a 50-row answer out of 300 000, see
 *   docs/scale-out.md); as a per-row check the ordered walk still stops at the limit;
 * - a one-value `terms` plan walks the term index `(dim, value, created_at, seq)` backwards,
 *   already newest first: no sort;
 * - `time` collects hits on the covering `(timestamp, created_at, seq)` index, then fetches
 *   their rows.
 * Expired attestations are left out by a hashed `NOT IN` over the partial `expires_at`
 * index: the set of stored, expired attestations is small (the sweep removes them).
 */
import type pg from "pg";
import { ATTESTATION_COLUMNS } from "./codec.js";
import type { NormalizedFilter } from "./filter.js";
import { chooseAsync, valuesOf, type Probe, type QueryPlan, type Strategy } from "./plan-choice.js";
import { Dim, DIM_NAMES, type DimName } from "./schema.js";

/** A planned query: the SQL with its positional parameters. */
export interface PgQuery {
  readonly plan: QueryPlan;
  readonly text: string;
  readonly values: readonly unknown[];
}

const ORDER_NEWEST = "ORDER BY a.created_at DESC, a.seq DESC";

/** Collects positional parameters while SQL is assembled. */
class Params {
  readonly values: unknown[] = [];

  /** Adds `value` and returns its placeholder, with `cast` (e.g. "text[]") when given. */
  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return `$${this.values.length}${cast ? `::${cast}` : ""}`;
  }
}

/** The SQL of one plan for `filter`; `now` (unix ms) decides what has expired. */
function buildSql(filter: NormalizedFilter, strategy: Strategy, driver: DimName | undefined, now: number): { text: string; values: unknown[] } {
  const p = new Params();
  const values = (d: DimName): string => p.add(valuesOf(filter, d), "text[]");
  const hasTerm = (d: DimName, createdAt: string, seq: string): string =>
    `EXISTS (SELECT 1 FROM attestation_terms AS x WHERE x.dim = ${Dim[d]} AND x.value = ANY(${values(d)}) ` +
    `AND x.created_at = ${createdAt} AND x.seq = ${seq} OFFSET 0)`;
  const conditions = (timestamp: string, createdAt: string, seq: string): string => {
    const list: string[] = [];
    if (filter.timeStart !== undefined) list.push(`${timestamp} >= ${p.add(filter.timeStart, "bigint")}`);
    if (filter.timeEnd !== undefined) list.push(`${timestamp} <= ${p.add(filter.timeEnd, "bigint")}`);
    for (const d of DIM_NAMES) if (d !== driver && valuesOf(filter, d) !== undefined) list.push(hasTerm(d, createdAt, seq));
    list.push(`${seq} NOT IN (SELECT e.seq FROM attestations AS e WHERE e.expires_at <= ${p.add(now, "bigint")})`);
    return list.join("\n  AND ");
  };
  const limit = (): string => `LIMIT ${filter.limit > 0 ? p.add(filter.limit, "bigint") : "ALL"}`;
  const fetchRows = (hits: string): string =>
    `SELECT ${ATTESTATION_COLUMNS}\nFROM (${hits}) AS hits\nJOIN attestations AS a ON a.seq = hits.seq\n` +
    `ORDER BY hits.created_at DESC, hits.seq DESC`;

  let text: string;
  if (strategy === "terms") {
    const driverValues = valuesOf(filter, driver!)!;
    if (driverValues.length === 1) {
      // One index range, already newest first: the LIMIT stops the walk, nothing is sorted.
      const head = `t.dim = ${Dim[driver!]} AND t.value = ${p.add(driverValues[0], "text")}`;
      text =
        `SELECT ${ATTESTATION_COLUMNS}\nFROM attestation_terms AS t\nJOIN attestations AS a ON a.seq = t.seq\n` +
        `WHERE ${head}\n  AND ${conditions("t.timestamp", "t.created_at", "t.seq")}\n` +
        `ORDER BY t.created_at DESC, t.seq DESC\n${limit()}`;
    } else {
      // Several values: an attestation may appear under two of them, hence DISTINCT.
      const head = `t.dim = ${Dim[driver!]} AND t.value = ANY(${p.add(driverValues, "text[]")})`;
      text = fetchRows(
        `SELECT DISTINCT t.seq, t.created_at FROM attestation_terms AS t\nWHERE ${head}\n` +
          `  AND ${conditions("t.timestamp", "t.created_at", "t.seq")}\nORDER BY t.created_at DESC, t.seq DESC ${limit()}`,
      );
    }
  } else if (strategy === "time") {
    text = fetchRows(
      `SELECT a.seq, a.created_at FROM attestations AS a\nWHERE ${conditions("a.timestamp", "a.created_at", "a.seq")}\n` +
        `${ORDER_NEWEST} ${limit()}`,
    );
  } else {
    text =
      `SELECT ${ATTESTATION_COLUMNS}\nFROM attestations AS a\nWHERE ${conditions("a.timestamp", "a.created_at", "a.seq")}\n` +
      `${ORDER_NEWEST}\n${limit()}`;
  }
  return { text, values: p.values };
}

// Absent bounds for the time probe: every int8.
const MIN_TIME = "-9223372036854775808";
const MAX_TIME = "9223372036854775807";

/**
 * Decides the plan for `filter` and returns the SQL to run.
 * @param db where the probes run (a pool, or the connection a cursor will run on)
 * @param now unix ms: attestations that expired at or before it are left out
 */
export async function planPgQuery(db: pg.Pool | pg.ClientBase, filter: NormalizedFilter, now: number): Promise<PgQuery> {
  const choice = await chooseAsync(filter, (probe) => runProbe(db, filter, probe));
  const { text, values } = buildSql(filter, choice.strategy, choice.driver, now);
  return { plan: { ...choice, sql: text, params: values }, text, values };
}

async function runProbe(db: pg.Pool | pg.ClientBase, filter: NormalizedFilter, probe: Probe): Promise<number> {
  let result: pg.QueryResult<{ n: number | null }>;
  switch (probe.kind) {
    case "size":
      // max(seq) is one index descent; count(*) would read the whole table.
      result = await db.query("SELECT max(seq) AS n FROM attestations");
      break;
    case "time":
      result = await db.query(
        "SELECT count(*) AS n FROM (SELECT 1 FROM attestations WHERE timestamp BETWEEN $1::bigint AND $2::bigint LIMIT $3) AS x",
        [filter.timeStart ?? MIN_TIME, filter.timeEnd ?? MAX_TIME, probe.cap],
      );
      break;
    case "term":
      result = await db.query(
        "SELECT count(*) AS n FROM (SELECT 1 FROM attestation_terms WHERE dim = $1 AND value = ANY($2::text[]) LIMIT $3) AS x",
        [Dim[probe.dim], valuesOf(filter, probe.dim), probe.cap],
      );
      break;
  }
  return result.rows[0]?.n ?? 0;
}
