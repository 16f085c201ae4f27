/** The iterate conformance cases on the SQLite store, and what its cursor does to the connection. */
import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { iterateCases, loadIterateData } from "../conformance/cases/iterate.js";
import { sqlite } from "../conformance/sqlite.js";
import { cmd, filter, ids, tempStore, type TempStore } from "../helpers.js";

iterateCases(sqlite);

describe("iterate on SQLite", () => {
  let t: TempStore;
  beforeEach(async () => {
    t = tempStore();
    await loadIterateData(t.store);
  });
  afterEach(() => t.cleanup());

  it("is lazy: it reads from an open cursor, and return() releases it for writes", async () => {
    const cursor = t.store.iterate(filter());
    const first3 = [await cursor.next(), await cursor.next(), await cursor.next()].map((r) => r.value!.timestamp);
    expect(first3).toEqual([9999, 9998, 9997]);
    // The SQLite cursor is still open (nothing was loaded up front): better-sqlite3 refuses
    // writes on the connection until it is released.
    await expect(t.store.generateAndCreate(cmd(), { source: "p" })).rejects.toThrow(/busy/);
    // Reads stay possible meanwhile.
    expect(await t.store.exists("nope")).toBe(false);
    expect((await cursor.return!()).done).toBe(true);
    expect((await cursor.next()).done).toBe(true);
    const a = await t.store.generateAndCreate(cmd({ subjects: ["after"] }), { source: "p" });
    expect(ids(await t.store.query(filter({ subjects: ["after"] })))).toEqual([a.id]);
  });

  it("releases the cursor when a for await loop breaks: writes work again", async () => {
    let seen = 0;
    for await (const a of t.store.iterate(filter({ predicates: ["common"] }))) {
      expect(a.predicates).toEqual(["common"]);
      if (++seen === 3) break;
    }
    expect(seen).toBe(3);
    await expect(t.store.generateAndCreate(cmd(), { source: "p" })).resolves.toBeDefined();
  });
});
