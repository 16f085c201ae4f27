/** The batch conformance cases (conformance/cases/batch.ts) on the SQLite store, and its connection after a rollback. */
import { afterEach, describe, expect, it } from "@jest/globals";
import { batchCases } from "../conformance/cases/batch.js";
import { sqlite } from "../conformance/sqlite.js";
import { cmd, tempStore, type TempStore } from "../helpers.js";

batchCases(sqlite);

describe("a refused batch on SQLite", () => {
  let t: TempStore;
  afterEach(() => t.cleanup());

  it("leaves the shared connection outside any transaction", async () => {
    t = tempStore();
    t.db.exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON attestations
               WHEN NEW.subjects LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`);
    await expect(t.store.batchGenerateAndCreate([cmd(), cmd({ subjects: ["poison"] })], { source: "p" })).rejects.toThrow(/batch command 1: .*poisoned row/);
    expect(t.db.prepare("SELECT count(*) AS n FROM attestation_terms").get()).toEqual({ n: 0 });
    // The connection is not left inside a transaction (Pulse shares it).
    expect(t.db.inTransaction).toBe(false);
  });
});
