/**
 * The choice of a query plan, shared by the SQLite and the PostgreSQL planners so both
 * stores answer a filter the same way (same strategy, same driving dimension, same caps).
 *
 * Neither database's own planner can know that subject "alice" has 10 rows while predicate
 * "is" has half the table, so the choice is made from cheap, capped counts of the term index
 * (see planner.ts for the strategies). The counts come from the database: SQLite answers them
 * synchronously, PostgreSQL over the network. So the choice is written once as a generator
 * that yields the {@link Probe}s it needs and receives their counts; {@link chooseSync} and
 * {@link chooseAsync} drive it.
 */
import type { NormalizedFilter } from "./filter.js";
import type { DimName } from "./schema.js";

/** How a query is executed; see planner.ts. */
export type Strategy = "terms" | "time" | "scan";

/** The decision for one filter, for tests and debugging (`explain` of both stores). */
export interface QueryPlan {
  readonly strategy: Strategy;
  /** The dimension that drives a `terms` plan. */
  readonly driver: DimName | undefined;
  /** Capped match counts that were probed, per dimension (and `time`). */
  readonly estimates: Readonly<Record<string, number>>;
  /** The SQL that runs. */
  readonly sql: string;
  /** Its positional parameters (PostgreSQL; SQLite's statements take named ones). */
  readonly params?: readonly unknown[];
}

/** A count the choice needs from the database. */
export type Probe =
  /** A bound on the number of stored attestations (SQLite: max(seq), one B-tree descent). */
  | { readonly kind: "size" }
  /** Term rows of `dim` with one of the filter's values, counted up to `cap`. */
  | { readonly kind: "term"; readonly dim: DimName; readonly cap: number }
  /** Attestations with `timestamp` within the filter's bounds, counted up to `cap`. */
  | { readonly kind: "time"; readonly cap: number };

/** What {@link choosePlan} decided. */
export interface PlanChoice {
  readonly strategy: Strategy;
  readonly driver: DimName | undefined;
  readonly estimates: Record<string, number>;
}

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

/**
 * Decides how to answer `filter`, yielding each count it needs.
 * - No constraint at all: `scan`.
 * - One one-value dimension and nothing else: `terms` on it, without probing (walked newest
 *   first, it stops at the limit: nothing can beat it).
 * - Otherwise each candidate (dimension, or the time bounds) is counted up to a cap and the
 *   smallest drives; a sorted driver (several values, or time) loses to a `scan` when matches
 *   are dense and a limit makes walking newest first cheaper than sorting every hit.
 */
export function* choosePlan(filter: NormalizedFilter): Generator<Probe, PlanChoice, number> {
  const estimates: Record<string, number> = {};
  const hasTime = filter.timeStart !== undefined || filter.timeEnd !== undefined;
  if (filter.dims.length === 0 && !hasTime) return { strategy: "scan", driver: undefined, estimates };

  const limit = filter.limit;
  const single = (d: DimName): boolean => filter.dims.find((c) => c.dim === d)!.values.length === 1;
  const filtered = new Set(filter.dims.map((d) => d.dim as DimName));
  const candidates: (DimName | "time")[] = PROBE_ORDER.filter((d) => filtered.has(d));
  if (hasTime) candidates.push("time");
  // One candidate walked in order needs no choice and no scan comparison: skip probing.
  if (candidates.length === 1 && candidates[0] !== "time" && single(candidates[0]!)) {
    return { strategy: "terms", driver: candidates[0], estimates };
  }
  const allSingle = candidates.every((c) => c !== "time" && single(c));

  // The table's size matters only to weigh a scan; asked for once, and only then (each probe
  // is a round trip on PostgreSQL).
  let size: number | undefined;
  function* total(): Generator<Probe, number, number> {
    size ??= yield { kind: "size" };
    return size;
  }
  // A scan walks ~SAFETY * limit * total / n rows, a sorted driver ~n: they break even at
  // n = sqrt(SAFETY * limit * total); probe a little past it to be able to tell. When every
  // candidate is walked in order (no sort, stops at the limit) there is no scan to weigh,
  // and a small cap is enough to tell a selective dimension from a dense one.
  const cap = !(limit > 0)
    ? NO_LIMIT_CAP
    : allSingle
      ? ORDERED_CAP
      : Math.min(MAX_CAP, Math.max(MIN_CAP, Math.ceil(2 * Math.sqrt(SCAN_SAFETY * limit * (yield* total())))));

  let best: { driver: DimName | "time"; n: number } | undefined;
  for (const candidate of candidates) {
    // Past the best so far only "bigger" matters: cap the probe there (bounds probing cost).
    const probeCap = Math.max(1, Math.min(cap, best?.n ?? cap));
    const n: number = yield candidate === "time" ? { kind: "time", cap: probeCap } : { kind: "term", dim: candidate, cap: probeCap };
    estimates[candidate] = n;
    if (best === undefined || n < best.n) best = { driver: candidate, n };
    if (best.n <= SMALL_ENOUGH) break;
  }
  const chosen = best!;
  const sorted = chosen.driver === "time" || !single(chosen.driver);
  // A one-value driver is walked newest first and stops at the limit: a scan cannot beat
  // it. Otherwise its hits are sorted, and for a limit on dense matches a scan wins.
  const rows = sorted && limit > 0 && chosen.n > SMALL_ENOUGH ? yield* total() : 0;
  if (rows > 0) {
    // Expected rows walked, assuming independent dimensions. Estimates are capped (too
    // low), which makes the scan look dearer than it is: we err towards the bounded plan.
    let density = 1;
    for (const n of Object.values(estimates)) density *= Math.min(1, n / rows);
    const scanRows = density > 0 ? limit / density : Infinity;
    if (SCAN_SAFETY * scanRows < chosen.n) return { strategy: "scan", driver: undefined, estimates };
  }
  return chosen.driver === "time"
    ? { strategy: "time", driver: undefined, estimates }
    : { strategy: "terms", driver: chosen.driver, estimates };
}

/** Runs {@link choosePlan} with a synchronous probe (SQLite). */
export function chooseSync(filter: NormalizedFilter, probe: (p: Probe) => number): PlanChoice {
  const steps = choosePlan(filter);
  for (let step = steps.next(); ; ) {
    if (step.done) return step.value;
    step = steps.next(probe(step.value));
  }
}

/** Runs {@link choosePlan} with an asynchronous probe (PostgreSQL). */
export async function chooseAsync(filter: NormalizedFilter, probe: (p: Probe) => Promise<number>): Promise<PlanChoice> {
  const steps = choosePlan(filter);
  for (let step = steps.next(); ; ) {
    if (step.done) return step.value;
    step = steps.next(await probe(step.value));
  }
}

/** The values of `dim` in `filter`, or undefined when the filter leaves it open. */
export function valuesOf(filter: NormalizedFilter, dim: DimName): readonly string[] | undefined {
  return filter.dims.find((d) => d.dim === dim)?.values;
}
