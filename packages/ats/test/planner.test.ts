/**
 * The planner picks among three SQL plans by data distribution; whichever it picks, results
 * must equal a plain in-memory evaluation of the filter semantics.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Attestation, AttestationFilter } from "@qntx/protocol";
import { matchesFilter, normalizeFilter, type Strategy } from "../src/index.js";
import { cmd, filter, ids, tempStore, type TempStore } from "./helpers.js";

let t: TempStore;
let all: Attestation[]; // in write order

// Deterministic pseudo-random numbers, so a failure reproduces.
let seed = 20240601;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const some = <T>(xs: readonly T[], max: number): T[] => Array.from({ length: 1 + Math.floor(rnd() * max) }, () => pick(xs));

const SUBJECTS = Array.from({ length: 400 }, (_, i) => `s${i}`);
const PREDICATES = ["is", "is", "is", "is", "has", "p1", "p2", "p3", "p4", "p5"]; // "is" ~40%
const CONTEXTS = Array.from({ length: 20 }, (_, i) => `c${i}`);
const ACTORS = ["u1", "u2", "u3", "u4", "u5"];
const N = 4000;

/** The specification, evaluated naively. */
function reference(f: AttestationFilter): string[] {
  const nf = normalizeFilter(f);
  const order = new Map(all.map((a, i) => [a.id, i]));
  const hits = all
    .filter((a) => matchesFilter(nf, a))
    .sort((x, y) => y.createdAt - x.createdAt || order.get(y.id)! - order.get(x.id)!);
  return ids(nf.limit > 0 ? hits.slice(0, nf.limit) : hits);
}

beforeAll(() => {
  let now = 1_000;
  // A clock that often stands still, so equal created_at values are common.
  t = tempStore({ now: () => (rnd() < 0.3 ? (now += 1) : now) });
  const commands = Array.from({ length: N }, (_, i) =>
    cmd({
      subjects: rnd() < 0.1 ? some(SUBJECTS, 3) : [pick(SUBJECTS)],
      predicates: rnd() < 0.05 ? [] : some(PREDICATES, 2),
      contexts: [pick(CONTEXTS)],
      actors: rnd() < 0.3 ? [] : some(ACTORS, 2),
      // Timestamps loosely follow write order with noise, some far in the past.
      timestamp: rnd() < 0.05 ? Math.floor(rnd() * 100) : i * 10 + Math.floor(rnd() * 500),
    }),
  );
  // Several batches so created_at varies.
  all = [];
  for (let i = 0; i < N; i += 500) all.push(...t.store.batchGenerateAndCreate(commands.slice(i, i + 500), { source: "p" }));
});
afterAll(() => t.cleanup());

function randomFilter(): AttestationFilter {
  const f = filter();
  if (rnd() < 0.5) f.subjects = some(SUBJECTS, 3);
  if (rnd() < 0.6) f.predicates = rnd() < 0.5 ? ["is"] : some([...PREDICATES, "_", "missing"], 3);
  if (rnd() < 0.4) f.contexts = some(CONTEXTS, 4);
  if (rnd() < 0.3) f.actors = some(ACTORS, 2);
  if (rnd() < 0.4) {
    const a = Math.floor(rnd() * N * 10);
    const width = pick([0, 50, 500, 5_000, 50_000]);
    if (rnd() < 0.8) f.timeStart = a;
    if (rnd() < 0.8) f.timeEnd = a + width;
  }
  f.limit = pick([undefined, 0, 1, 5, 20, 200]);
  return f;
}

describe("query planner", () => {
  it("returns the reference result for 600 random filters, whichever plan it picks", () => {
    const used = new Map<Strategy, number>();
    for (let i = 0; i < 600; i++) {
      const f = randomFilter();
      const plan = t.store.explain(f);
      used.set(plan.strategy, (used.get(plan.strategy) ?? 0) + 1);
      const expected = reference(f);
      const got = ids(t.store.query(f));
      if (got.join() !== expected.join()) {
        throw new Error(`filter ${JSON.stringify(f)} with plan ${plan.strategy}/${plan.driver}: got ${got.length} rows, expected ${expected.length}`);
      }
      if (i % 10 === 0) expect(ids([...t.store.iterate(f)])).toEqual(expected);
    }
    // The random filters must have exercised every plan, or this test proves less than it says.
    expect([...used.keys()].sort()).toEqual(["scan", "terms", "time"]);
  });

  it("picks the plan the data calls for", () => {
    const plan = (f: Partial<AttestationFilter>) => t.store.explain(filter(f));
    expect(plan({})).toMatchObject({ strategy: "scan" });
    expect(plan({ subjects: ["s1"], predicates: ["is"] })).toMatchObject({ strategy: "terms", driver: "subjects" });
    expect(plan({ predicates: ["p1"], contexts: ["c1"], actors: ["u1"] }).strategy).toBe("terms");
    expect(plan({ predicates: ["is"], timeStart: 100, timeEnd: 150 })).toMatchObject({ strategy: "time" });
    // Dense matches with a limit: walking newest first beats sorting thousands of hits.
    expect(plan({ predicates: ["is", "has"], limit: 5 })).toMatchObject({ strategy: "scan" });
    // A single dense value is walked in order on its own term range: no scan needed.
    expect(plan({ predicates: ["is"], limit: 5 })).toMatchObject({ strategy: "terms", driver: "predicates" });
  });

  it("uses the indexes it means to: no full-table scan, no sort on single-value plans", () => {
    const detail = (f: Partial<AttestationFilter>): string => {
      const nf = filter(f);
      const { sql } = t.store.explain(nf);
      const params: Record<string, unknown> = { timeStart: 0, timeEnd: 1, limit: 1, driverValue: "x" };
      for (const d of ["subjects", "predicates", "contexts", "actors"]) params[d] = "[]";
      return (t.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((r) => r.detail).join(" | ");
    };
    const single = detail({ subjects: ["s1"], predicates: ["is"], limit: 5 });
    expect(single).toContain("SEARCH t USING PRIMARY KEY (dim=? AND value=?)");
    expect(single).toContain("SEARCH x EXISTS USING PRIMARY KEY (dim=? AND value=? AND created_at=? AND att=?)");
    expect(single).toContain("SEARCH a USING INTEGER PRIMARY KEY (rowid=?)");
    expect(single).not.toContain("TEMP B-TREE");
    expect(single).not.toMatch(/SCAN (a|t)\b/);
    const time = detail({ timeStart: 100, timeEnd: 120, contexts: ["c1", "c2"] });
    expect(time).toContain("USING COVERING INDEX attestations_timestamp");
    expect(detail({ limit: 3 })).toBe("SCAN a USING INDEX attestations_created_at");
  });
});
