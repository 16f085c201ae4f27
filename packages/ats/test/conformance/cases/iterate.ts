/** iterate: the same answers as query, from a cursor that is always released, for any store. */
import { beforeAll, expect, it } from "@jest/globals";
import type { AttestationFilter } from "@qntx/protocol";
import type { AttestationStore } from "../../../src/index.js";
import { cmd, filter, ids } from "../../helpers.js";
import { storeSuite, type StoreSubject } from "../subject.js";

/** 10 000 attestations: s<i%100> and g<i%3> subjects, "rare" on every tenth, c<i%5>, timestamp i. */
export async function loadIterateData(store: AttestationStore): Promise<void> {
  await store.batchGenerateAndCreate(
    Array.from({ length: 10_000 }, (_, i) =>
      cmd({ subjects: [`s${i % 100}`, `g${i % 3}`], predicates: [i % 10 === 0 ? "rare" : "common"], contexts: [`c${i % 5}`], timestamp: i }),
    ),
    { source: "p" },
  );
}

/** Drains an async iterator into a list. */
export async function drain<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const row of rows) all.push(row);
  return all;
}

/** The iterate cases. */
export function iterateCases(subject: StoreSubject): void {
  storeSuite(subject, "iterate", ({ open }) => {
    let store: AttestationStore;
    beforeAll(async () => {
      store = (await open({}, { file: true })).store;
      await loadIterateData(store);
    });

    it("yields the same attestations, in the same order, as query", async () => {
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
        const streamed = await drain(store.iterate(f));
        expect(ids(streamed)).toEqual(ids(await store.query(f)));
        expect(streamed).toEqual(await store.query(f));
      }
    });

    it("releases the cursor when a for await loop breaks", async () => {
      let seen = 0;
      for await (const a of store.iterate(filter({ predicates: ["common"] }))) {
        expect(a.predicates).toEqual(["common"]);
        if (++seen === 3) break;
      }
      expect(seen).toBe(3);
      const a = await store.generateAndCreate(cmd({ subjects: ["after-break"] }), { source: "p" });
      expect(ids(await store.query(filter({ subjects: ["after-break"] })))).toEqual([a.id]);
    });

    it("releases a cursor returned before its first row, and ends it for good", async () => {
      const cursor = store.iterate(filter());
      expect((await cursor.return!()).done).toBe(true);
      expect((await cursor.next()).done).toBe(true);
      const a = await store.generateAndCreate(cmd({ subjects: ["after-return"] }), { source: "p" });
      expect(ids(await store.query(filter({ subjects: ["after-return"] })))).toEqual([a.id]);
    });

    it("validates the filter when called, not at the first next()", () => {
      expect(() => store.iterate(undefined as never)).toThrow("attestation filter is missing");
    });
  });
}
