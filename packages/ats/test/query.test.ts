import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import type { Attestation } from "@qntx/protocol";
import { att, filter, ids, manualClock, tempStore, type TempStore } from "./helpers.js";

let t: TempStore;
afterEach(() => t.cleanup());

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

describe("query semantics", () => {
  beforeEach(() => {
    t = tempStore();
    for (const r of rows) t.store.create(r);
  });

  it("returns everything, newest created_at first, for an empty filter", () => {
    expect(ids(t.store.query(filter()))).toEqual(["a5", "a4", "a3", "a2", "a1"]);
    expect(t.store.query(filter())[4]).toEqual(rows[0]);
  });

  it("ORs values within a dimension", () => {
    expect(ids(t.store.query(filter({ subjects: ["bob", "carol"] })))).toEqual(["a4", "a3", "a2"]);
    expect(ids(t.store.query(filter({ predicates: ["likes", "nope"] })))).toEqual(["a5", "a4", "a3"]);
    expect(ids(t.store.query(filter({ actors: ["admin", "eve"] })))).toEqual(["a5", "a4", "a3", "a1"]);
    // An attestation matching two values of the list comes back once.
    expect(ids(t.store.query(filter({ subjects: ["alice", "bob"] })))).toEqual(["a5", "a3", "a2", "a1"]);
    expect(ids(t.store.query(filter({ subjects: ["alice", "alice"] })))).toEqual(["a5", "a3", "a1"]);
  });

  it("ANDs across dimensions", () => {
    expect(ids(t.store.query(filter({ subjects: ["alice"], predicates: ["likes"] })))).toEqual(["a5", "a3"]);
    expect(ids(t.store.query(filter({ subjects: ["alice"], predicates: ["likes"], contexts: ["work"] })))).toEqual(["a3"]);
    expect(ids(t.store.query(filter({ subjects: ["alice", "carol"], actors: ["admin"] })))).toEqual(["a4", "a1"]);
    expect(ids(t.store.query(filter({ predicates: ["knows"], contexts: ["home", "club"], actors: ["admin"] })))).toEqual(["a4"]);
    expect(ids(t.store.query(filter({ subjects: ["bob"], actors: ["admin"] })))).toEqual([]);
    expect(ids(t.store.query(filter({ subjects: ["nobody"] })))).toEqual([]);
  });

  it("treats time bounds as inclusive at both edges, each optional", () => {
    expect(ids(t.store.query(filter({ timeStart: 200, timeEnd: 400 })))).toEqual(["a4", "a3", "a2"]);
    expect(ids(t.store.query(filter({ timeStart: 201, timeEnd: 399 })))).toEqual(["a3"]);
    expect(ids(t.store.query(filter({ timeStart: 300, timeEnd: 300 })))).toEqual(["a3"]);
    expect(ids(t.store.query(filter({ timeStart: 400 })))).toEqual(["a5", "a4"]);
    expect(ids(t.store.query(filter({ timeEnd: 200 })))).toEqual(["a2", "a1"]);
    expect(ids(t.store.query(filter({ timeStart: 500, timeEnd: 100 })))).toEqual([]);
    expect(ids(t.store.query(filter({ subjects: ["alice"], timeStart: 100, timeEnd: 300 })))).toEqual(["a3", "a1"]);
  });

  it("checks time bounds by presence: 0 is a bound", () => {
    t.store.create(att({ id: "neg", timestamp: -5, createdAt: 1 }));
    t.store.create(att({ id: "zero", timestamp: 0, createdAt: 2 }));
    expect(ids(t.store.query(filter({ timeEnd: 0 })))).toEqual(["zero", "neg"]);
    expect(ids(t.store.query(filter({ timeStart: 0, timeEnd: 100 })))).toEqual(["a1", "zero"]);
  });

  it("applies limit after ordering; unset, 0 and negative mean no limit", () => {
    expect(ids(t.store.query(filter({ limit: 2 })))).toEqual(["a5", "a4"]);
    expect(ids(t.store.query(filter({ subjects: ["alice"], limit: 1 })))).toEqual(["a5"]);
    expect(ids(t.store.query(filter({ subjects: ["alice", "bob"], limit: 3 })))).toEqual(["a5", "a3", "a2"]);
    expect(ids(t.store.query(filter({ timeStart: 0, limit: 2 })))).toEqual(["a5", "a4"]);
    expect(t.store.query(filter({ limit: 0 }))).toHaveLength(5);
    expect(t.store.query(filter({ limit: undefined }))).toHaveLength(5);
    expect(t.store.query(filter({ limit: -1 }))).toHaveLength(5);
    expect(t.store.query(filter({ limit: 100 }))).toHaveLength(5);
  });

  it("orders by created_at, not timestamp, and not by write order", () => {
    t.store.create(att({ id: "late-written-old", subjects: ["alice"], timestamp: 9999, createdAt: 1 }));
    expect(ids(t.store.query(filter({ subjects: ["alice"] })))).toEqual(["a5", "a3", "a1", "late-written-old"]);
  });

  it("rejects a missing or malformed filter with INVALID_ARGUMENT", () => {
    expect(() => t.store.query(undefined as never)).toThrow("attestation filter is missing");
    expect(() => t.store.query(filter({ subjects: [1 as never] }))).toThrow(/subjects must be a list of strings/);
    expect(() => t.store.query(filter({ timeStart: Number.NaN }))).toThrow(/time_start/);
  });
});

describe("newest first with equal timestamps", () => {
  it("keeps write order within one millisecond", () => {
    const clock = manualClock(42);
    t = tempStore({ now: clock.now });
    const made = t.store.batchGenerateAndCreate(
      Array.from({ length: 20 }, (_, i) => ({ subjects: [`s${i % 3}`], predicates: [], contexts: [], actors: [], source: "", sourceVersion: "" })),
      { source: "p" },
    );
    expect(ids(t.store.query(filter()))).toEqual(ids(made).reverse());
    expect(ids(t.store.query(filter({ subjects: ["s1"] })))).toEqual(ids(made.filter((a) => a.subjects[0] === "s1")).reverse());
    expect(ids(t.store.query(filter({ subjects: ["s1", "s2"], limit: 4 })))).toEqual(
      ids(made.filter((a) => a.subjects[0] !== "s0")).reverse().slice(0, 4),
    );
  });
});
