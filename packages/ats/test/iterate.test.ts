import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import type { AttestationFilter } from "@qntx/protocol";
import { cmd, filter, ids, tempStore, type TempStore } from "./helpers.js";

let t: TempStore;
beforeEach(() => {
  t = tempStore();
  t.store.batchGenerateAndCreate(
    Array.from({ length: 10_000 }, (_, i) =>
      cmd({ subjects: [`s${i % 100}`, `g${i % 3}`], predicates: [i % 10 === 0 ? "rare" : "common"], contexts: [`c${i % 5}`], timestamp: i }),
    ),
    { source: "p" },
  );
});
afterEach(() => t.cleanup());

describe("iterate", () => {
  it("yields the same attestations, in the same order, as query", () => {
    const filters: AttestationFilter[] = [
      filter(),
      filter({ limit: 7 }),
      filter({ subjects: ["s5"] }),
      filter({ subjects: ["s5", "g1"], limit: 40 }),
      filter({ predicates: ["rare"], contexts: ["c0", "c2"] }),
      filter({ timeStart: 1000, timeEnd: 1100, predicates: ["common"] }),
      filter({ subjects: ["missing"] }),
    ];
    for (const f of filters) {
      const streamed = [...t.store.iterate(f)];
      expect(ids(streamed)).toEqual(ids(t.store.query(f)));
      expect(streamed).toEqual(t.store.query(f));
    }
  });

  it("is lazy: it reads from an open cursor, and return() releases it for writes", () => {
    const cursor = t.store.iterate(filter());
    const first3 = [cursor.next(), cursor.next(), cursor.next()].map((r) => r.value!.timestamp);
    expect(first3).toEqual([9999, 9998, 9997]);
    // The SQLite cursor is still open (nothing was loaded up front): better-sqlite3 refuses
    // writes on the connection until it is released.
    expect(() => t.store.generateAndCreate(cmd(), { source: "p" })).toThrow(/busy/);
    // Reads stay possible meanwhile.
    expect(t.store.exists("nope")).toBe(false);
    expect(cursor.return!().done).toBe(true);
    expect(cursor.next().done).toBe(true);
    const a = t.store.generateAndCreate(cmd({ subjects: ["after"] }), { source: "p" });
    expect(ids(t.store.query(filter({ subjects: ["after"] })))).toEqual([a.id]);
  });

  it("releases the cursor when a for…of loop breaks", () => {
    let seen = 0;
    for (const a of t.store.iterate(filter({ predicates: ["common"] }))) {
      expect(a.predicates).toEqual(["common"]);
      if (++seen === 3) break;
    }
    expect(seen).toBe(3);
    expect(() => t.store.generateAndCreate(cmd(), { source: "p" })).not.toThrow();
  });

  it("validates the filter when called, not at the first next()", () => {
    expect(() => t.store.iterate(undefined as never)).toThrow("attestation filter is missing");
  });
});
