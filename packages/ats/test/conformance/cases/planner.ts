/**
 * The planner picks among three SQL plans by data distribution; whichever it picks, results
 * must equal a plain in-memory evaluation of the filter semantics. Both stores make the same
 * choice (plan-choice.ts), so the expected plans hold for both.
 */
import { beforeAll, expect, it } from "@jest/globals";
import type { Attestation, AttestationFilter } from "@qntx/protocol";
import { matchesFilter, normalizeFilter, type Strategy } from "../../../src/index.js";
import { drain } from "./iterate.js";
import { cmd, filter, ids } from "../../helpers.js";
import { storeSuite, type OpenedStore, type StoreSubject } from "../subject.js";

// Deterministic pseudo-random numbers, so a failure reproduces.
let seed = 20240601;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
// The store's clock draws from its own sequence: the stores read the clock a different number
// of times (expiry checks), which must not change the data or the filters drawn.
let clockSeed = 19700101;
function clockRnd(): number {
  clockSeed = (clockSeed * 1103515245 + 12345) & 0x7fffffff;
  return clockSeed / 0x7fffffff;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const some = <T>(xs: readonly T[], max: number): T[] => Array.from({ length: 1 + Math.floor(rnd() * max) }, () => pick(xs));

const SUBJECTS = Array.from({ length: 400 }, (_, i) => `s${i}`);
const PREDICATES = ["is", "is", "is", "is", "has", "p1", "p2", "p3", "p4", "p5"]; // "is" ~40%
const CONTEXTS = Array.from({ length: 20 }, (_, i) => `c${i}`);
const ACTORS = ["u1", "u2", "u3", "u4", "u5"];
const N = 4000;

/** The specification, evaluated naively over `all` (in write order). */
function reference(all: readonly Attestation[], f: AttestationFilter): string[] {
  const nf = normalizeFilter(f);
  const order = new Map(all.map((a, i) => [a.id, i]));
  const hits = all
    .filter((a) => matchesFilter(nf, a))
    .sort((x, y) => y.createdAt - x.createdAt || order.get(y.id)! - order.get(x.id)!);
  return ids(nf.limit > 0 ? hits.slice(0, nf.limit) : hits);
}

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

/**
 * The planner cases; `more` adds store-specific tests that see the same loaded store (the
 * SQLite and PostgreSQL EXPLAIN checks).
 */
export function plannerCases(subject: StoreSubject, more?: (loaded: () => OpenedStore) => void): void {
  storeSuite(subject, "query planner", ({ open }) => {
    let opened: OpenedStore;
    let all: Attestation[]; // in write order

    beforeAll(async () => {
      let now = 1_000;
      // A clock that often stands still, so equal created_at values are common.
      opened = await open({ now: () => (clockRnd() < 0.3 ? (now += 1) : now) }, { file: true });
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
      for (let i = 0; i < N; i += 500) all.push(...(await opened.store.batchGenerateAndCreate(commands.slice(i, i + 500), { source: "p" })));
    });

    it("returns the reference result for 600 random filters, whichever plan it picks", async () => {
      const used = new Map<Strategy, number>();
      for (let i = 0; i < 600; i++) {
        const f = randomFilter();
        const plan = await opened.explain(f);
        used.set(plan.strategy, (used.get(plan.strategy) ?? 0) + 1);
        const expected = reference(all, f);
        const got = ids(await opened.store.query(f));
        if (got.join() !== expected.join()) {
          throw new Error(`filter ${JSON.stringify(f)} with plan ${plan.strategy}/${plan.driver}: got ${got.length} rows, expected ${expected.length}`);
        }
        if (i % 10 === 0) expect(ids(await drain(opened.store.iterate(f)))).toEqual(expected);
      }
      // The random filters must have exercised every plan, or this test proves less than it says.
      expect([...used.keys()].sort()).toEqual(["scan", "terms", "time"]);
    });

    it("picks the plan the data calls for", async () => {
      const plan = (f: Partial<AttestationFilter>) => opened.explain(filter(f));
      expect(await plan({})).toMatchObject({ strategy: "scan" });
      expect(await plan({ subjects: ["s1"], predicates: ["is"] })).toMatchObject({ strategy: "terms", driver: "subjects" });
      expect((await plan({ predicates: ["p1"], contexts: ["c1"], actors: ["u1"] })).strategy).toBe("terms");
      expect(await plan({ predicates: ["is"], timeStart: 100, timeEnd: 150 })).toMatchObject({ strategy: "time" });
      // Dense matches with a limit: walking newest first beats sorting thousands of hits.
      expect(await plan({ predicates: ["is", "has"], limit: 5 })).toMatchObject({ strategy: "scan" });
      // A single dense value is walked in order on its own term range: no scan needed.
      expect(await plan({ predicates: ["is"], limit: 5 })).toMatchObject({ strategy: "terms", driver: "predicates" });
    });

    more?.(() => opened);
  });
}
