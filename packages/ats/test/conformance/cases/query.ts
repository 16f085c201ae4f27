/** Query semantics on a small fixed data set, for any store. */
import { beforeEach, expect, it } from "@jest/globals";
import type { Attestation } from "@qntx/protocol";
import type { AttestationStore } from "../../../src/index.js";
import { att, filter, ids, manualClock } from "../../helpers.js";
import { storeSuite, type StoreSubject } from "../subject.js";

/**
 * A small fixed data set; created_at follows the id number, so "newest first" is
 * descending ids.
 *   a1: s=[alice]       p=[knows]        c=[work]  u=[admin] ts=100
 *   a2: s=[bob]         p=[knows]        c=[home]  u=[]      ts=200
 *   a3: s=[alice, bob]  p=[likes]        c=[work]  u=[eve]   ts=300
 *   a4: s=[carol]       p=[knows, likes] c=[club]  u=[admin] ts=400
 *   a5: s=[alice]       p=[likes]        c=[home]  u=[eve]   ts=500
 */
const rows: Attestation[] = [
  att({ id: "a1", subjects: ["alice"], predicates: ["knows"], contexts: ["work"], actors: ["admin"], timestamp: 100, createdAt: 1001 }),
  att({ id: "a2", subjects: ["bob"], predicates: ["knows"], contexts: ["home"], actors: [], timestamp: 200, createdAt: 1002 }),
  att({ id: "a3", subjects: ["alice", "bob"], predicates: ["likes"], contexts: ["work"], actors: ["eve"], timestamp: 300, createdAt: 1003 }),
  att({ id: "a4", subjects: ["carol"], predicates: ["knows", "likes"], contexts: ["club"], actors: ["admin"], timestamp: 400, createdAt: 1004 }),
  att({ id: "a5", subjects: ["alice"], predicates: ["likes"], contexts: ["home"], actors: ["eve"], timestamp: 500, createdAt: 1005 }),
];

/** The query-semantics cases. */
export function queryCases(subject: StoreSubject): void {
  storeSuite(subject, "query semantics", ({ open }) => {
    let store: AttestationStore;
    beforeEach(async () => {
      store = (await open()).store;
      for (const r of rows) await store.create(r);
    });

    it("returns everything, newest created_at first, for an empty filter", async () => {
      expect(ids(await store.query(filter()))).toEqual(["a5", "a4", "a3", "a2", "a1"]);
      expect((await store.query(filter()))[4]).toEqual(rows[0]);
    });

    it("ORs values within a dimension", async () => {
      expect(ids(await store.query(filter({ subjects: ["bob", "carol"] })))).toEqual(["a4", "a3", "a2"]);
      expect(ids(await store.query(filter({ predicates: ["likes", "nope"] })))).toEqual(["a5", "a4", "a3"]);
      expect(ids(await store.query(filter({ actors: ["admin", "eve"] })))).toEqual(["a5", "a4", "a3", "a1"]);
      // An attestation matching two values of the list comes back once.
      expect(ids(await store.query(filter({ subjects: ["alice", "bob"] })))).toEqual(["a5", "a3", "a2", "a1"]);
      expect(ids(await store.query(filter({ subjects: ["alice", "alice"] })))).toEqual(["a5", "a3", "a1"]);
    });

    it("ANDs across dimensions", async () => {
      expect(ids(await store.query(filter({ subjects: ["alice"], predicates: ["likes"] })))).toEqual(["a5", "a3"]);
      expect(ids(await store.query(filter({ subjects: ["alice"], predicates: ["likes"], contexts: ["work"] })))).toEqual(["a3"]);
      expect(ids(await store.query(filter({ subjects: ["alice", "carol"], actors: ["admin"] })))).toEqual(["a4", "a1"]);
      expect(ids(await store.query(filter({ predicates: ["knows"], contexts: ["home", "club"], actors: ["admin"] })))).toEqual(["a4"]);
      expect(ids(await store.query(filter({ subjects: ["bob"], actors: ["admin"] })))).toEqual([]);
      expect(ids(await store.query(filter({ subjects: ["nobody"] })))).toEqual([]);
    });

    it("treats time bounds as inclusive at both edges, each optional", async () => {
      expect(ids(await store.query(filter({ timeStart: 200, timeEnd: 400 })))).toEqual(["a4", "a3", "a2"]);
      expect(ids(await store.query(filter({ timeStart: 201, timeEnd: 399 })))).toEqual(["a3"]);
      expect(ids(await store.query(filter({ timeStart: 300, timeEnd: 300 })))).toEqual(["a3"]);
      expect(ids(await store.query(filter({ timeStart: 400 })))).toEqual(["a5", "a4"]);
      expect(ids(await store.query(filter({ timeEnd: 200 })))).toEqual(["a2", "a1"]);
      expect(ids(await store.query(filter({ timeStart: 500, timeEnd: 100 })))).toEqual([]);
      expect(ids(await store.query(filter({ subjects: ["alice"], timeStart: 100, timeEnd: 300 })))).toEqual(["a3", "a1"]);
    });

    it("checks time bounds by presence: 0 is a bound", async () => {
      await store.create(att({ id: "neg", timestamp: -5, createdAt: 1 }));
      await store.create(att({ id: "zero", timestamp: 0, createdAt: 2 }));
      expect(ids(await store.query(filter({ timeEnd: 0 })))).toEqual(["zero", "neg"]);
      expect(ids(await store.query(filter({ timeStart: 0, timeEnd: 100 })))).toEqual(["a1", "zero"]);
    });

    it("applies limit after ordering; unset, 0 and negative mean no limit", async () => {
      expect(ids(await store.query(filter({ limit: 2 })))).toEqual(["a5", "a4"]);
      expect(ids(await store.query(filter({ subjects: ["alice"], limit: 1 })))).toEqual(["a5"]);
      expect(ids(await store.query(filter({ subjects: ["alice", "bob"], limit: 3 })))).toEqual(["a5", "a3", "a2"]);
      expect(ids(await store.query(filter({ timeStart: 0, limit: 2 })))).toEqual(["a5", "a4"]);
      expect(await store.query(filter({ limit: 0 }))).toHaveLength(5);
      expect(await store.query(filter({ limit: undefined }))).toHaveLength(5);
      expect(await store.query(filter({ limit: -1 }))).toHaveLength(5);
      expect(await store.query(filter({ limit: 100 }))).toHaveLength(5);
    });

    it("orders by created_at, not timestamp, and not by write order", async () => {
      await store.create(att({ id: "late-written-old", subjects: ["alice"], timestamp: 9999, createdAt: 1 }));
      expect(ids(await store.query(filter({ subjects: ["alice"] })))).toEqual(["a5", "a3", "a1", "late-written-old"]);
    });

    it("rejects a missing or malformed filter with INVALID_ARGUMENT", async () => {
      await expect(store.query(undefined as never)).rejects.toThrow("attestation filter is missing");
      await expect(store.query(filter({ subjects: [1 as never] }))).rejects.toThrow(/subjects must be a list of strings/);
      await expect(store.query(filter({ timeStart: Number.NaN }))).rejects.toThrow(/time_start/);
    });
  });

  storeSuite(subject, "newest first with equal timestamps", ({ open }) => {
    it("keeps write order within one millisecond", async () => {
      const clock = manualClock(42);
      const { store } = await open({ now: clock.now });
      const made = await store.batchGenerateAndCreate(
        Array.from({ length: 20 }, (_, i) => ({ subjects: [`s${i % 3}`], predicates: [], contexts: [], actors: [], source: "", sourceVersion: "" })),
        { source: "p" },
      );
      expect(ids(await store.query(filter()))).toEqual(ids(made).reverse());
      expect(ids(await store.query(filter({ subjects: ["s1"] })))).toEqual(ids(made.filter((a) => a.subjects[0] === "s1")).reverse());
      expect(ids(await store.query(filter({ subjects: ["s1", "s2"], limit: 4 })))).toEqual(
        ids(made.filter((a) => a.subjects[0] !== "s0")).reverse().slice(0, 4),
      );
    });
  });
}
