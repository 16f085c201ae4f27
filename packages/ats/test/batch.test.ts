import { afterEach, describe, expect, it } from "@jest/globals";
import { AtsError } from "../src/index.js";
import { cmd, filter, ids, tempStore, type TempStore } from "./helpers.js";

let t: TempStore;
afterEach(() => t.cleanup());

describe("batchGenerateAndCreate", () => {
  it("stores every command and returns the attestations in command order", () => {
    t = tempStore();
    const made = t.store.batchGenerateAndCreate(
      [cmd({ subjects: ["a"] }), cmd({ subjects: ["b"], source: "own" }), cmd({ subjects: ["c"], sourceVersion: "9" })],
      { source: "plug" },
    );
    expect(made.map((a) => a.subjects[0])).toEqual(["a", "b", "c"]);
    expect(made.map((a) => a.source)).toEqual(["plug", "own", "plug"]);
    expect(made[2]!.attributes).toEqual({ source_version: "9" });
    expect(t.store.count()).toBe(3);
    expect(ids(t.store.query(filter()))).toEqual(ids(made).reverse());
    expect(new Set(ids(made)).size).toBe(3);
  });

  it("writes nothing when a command in the middle is invalid, and names its index", () => {
    t = tempStore();
    const store = t.store;
    const commands = [cmd({ subjects: ["ok1"] }), cmd({ subjects: ["ok2"] }), cmd({ subjects: [] }), cmd({ subjects: ["ok4"] })];
    let error: unknown;
    try {
      store.batchGenerateAndCreate(commands, { source: "p" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AtsError);
    expect((error as AtsError).code).toBe("INVALID_ARGUMENT");
    expect((error as AtsError).message).toBe("batch command 2: attestation needs at least one subject");
    expect(store.count()).toBe(0);
    expect(() => store.batchGenerateAndCreate([cmd(), undefined as never], { source: "p" })).toThrow(
      "batch command 1: attestation command is missing",
    );
  });

  it("is one transaction: a database failure at row 3 rolls back rows 0-2", () => {
    t = tempStore();
    // Make the database itself refuse one row, after earlier rows were inserted.
    t.db.exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON attestations
               WHEN NEW.subjects LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`);
    const commands = [cmd({ subjects: ["a"] }), cmd({ subjects: ["b"] }), cmd({ subjects: ["c"] }), cmd({ subjects: ["poison"] })];
    expect(() => t.store.batchGenerateAndCreate(commands, { source: "p" })).toThrow(/batch command 3: .*poisoned row/);
    expect(t.store.count()).toBe(0);
    expect(t.db.prepare("SELECT count(*) AS n FROM attestation_terms").get()).toEqual({ n: 0 });
    // The connection is not left inside a transaction.
    expect(t.db.inTransaction).toBe(false);
    t.store.batchGenerateAndCreate(commands.slice(0, 3), { source: "p" });
    expect(t.store.count()).toBe(3);
  });

  it("accepts an empty batch", () => {
    t = tempStore();
    expect(t.store.batchGenerateAndCreate([], { source: "p" })).toEqual([]);
    expect(t.store.count()).toBe(0);
  });

  it("stores 20,000 attestations in one call, all queryable", () => {
    t = tempStore();
    const commands = Array.from({ length: 20_000 }, (_, i) =>
      cmd({ subjects: [`s${i % 1000}`], predicates: [i % 2 ? "odd" : "even"], contexts: [`c${i % 7}`], timestamp: i }),
    );
    const made = t.store.batchGenerateAndCreate(commands, { source: "p" });
    expect(made).toHaveLength(20_000);
    expect(t.store.count()).toBe(20_000);
    const got = t.store.query(filter({ subjects: ["s7"], predicates: ["odd"] }));
    expect(got.map((a) => a.timestamp)).toEqual(made.filter((a) => a.subjects[0] === "s7" && a.predicates[0] === "odd").map((a) => a.timestamp).reverse());
    expect(got).toHaveLength(20);
  });
});
