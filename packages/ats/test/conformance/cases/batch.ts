/** batchGenerateAndCreate: order, atomicity, size, for any store. */
import { expect, it } from "@jest/globals";
import { AtsError } from "../../../src/index.js";
import { cmd, filter, ids } from "../../helpers.js";
import { storeSuite, type StoreSubject } from "../subject.js";

/** The batch cases. */
export function batchCases(subject: StoreSubject): void {
  storeSuite(subject, "batchGenerateAndCreate", ({ open }) => {
    it("stores every command and returns the attestations in command order", async () => {
      const { store } = await open();
      const made = await store.batchGenerateAndCreate(
        [cmd({ subjects: ["a"] }), cmd({ subjects: ["b"], source: "own" }), cmd({ subjects: ["c"], sourceVersion: "9" })],
        { source: "plug" },
      );
      expect(made.map((a) => a.subjects[0])).toEqual(["a", "b", "c"]);
      expect(made.map((a) => a.source)).toEqual(["plug", "own", "plug"]);
      expect(made[2]!.attributes).toEqual({ source_version: "9" });
      expect(await store.count()).toBe(3);
      expect(ids(await store.query(filter()))).toEqual(ids(made).reverse());
      expect(new Set(ids(made)).size).toBe(3);
    });

    it("writes nothing when a command in the middle is invalid, and names its index", async () => {
      const { store } = await open();
      const commands = [cmd({ subjects: ["ok1"] }), cmd({ subjects: ["ok2"] }), cmd({ subjects: [] }), cmd({ subjects: ["ok4"] })];
      let error: unknown;
      try {
        await store.batchGenerateAndCreate(commands, { source: "p" });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(AtsError);
      expect((error as AtsError).code).toBe("INVALID_ARGUMENT");
      expect((error as AtsError).message).toBe("batch command 2: attestation needs at least one subject");
      expect(await store.count()).toBe(0);
      await expect(store.batchGenerateAndCreate([cmd(), undefined as never], { source: "p" })).rejects.toThrow(
        "batch command 1: attestation command is missing",
      );
    });

    it("is one transaction: a database failure at row 3 rolls back rows 0-2", async () => {
      const opened = await open();
      const { store } = opened;
      // Make the database itself refuse one row, after earlier rows were inserted.
      await opened.refuseSubjectsContaining("poison", "poisoned row");
      const commands = [cmd({ subjects: ["a"] }), cmd({ subjects: ["b"] }), cmd({ subjects: ["c"] }), cmd({ subjects: ["poison"] })];
      await expect(store.batchGenerateAndCreate(commands, { source: "p" })).rejects.toThrow(/batch command 3: .*poisoned row/);
      expect(await store.count()).toBe(0);
      expect(await opened.termRows()).toBe(0);
      // The store is not left inside a transaction: it writes again.
      await store.batchGenerateAndCreate(commands.slice(0, 3), { source: "p" });
      expect(await store.count()).toBe(3);
    });

    it("accepts an empty batch", async () => {
      const { store } = await open();
      expect(await store.batchGenerateAndCreate([], { source: "p" })).toEqual([]);
      expect(await store.count()).toBe(0);
    });

    it("stores 20,000 attestations in one call, all queryable", async () => {
      const { store } = await open();
      const commands = Array.from({ length: 20_000 }, (_, i) =>
        cmd({ subjects: [`s${i % 1000}`], predicates: [i % 2 ? "odd" : "even"], contexts: [`c${i % 7}`], timestamp: i }),
      );
      const made = await store.batchGenerateAndCreate(commands, { source: "p" });
      expect(made).toHaveLength(20_000);
      expect(await store.count()).toBe(20_000);
      const got = await store.query(filter({ subjects: ["s7"], predicates: ["odd"] }));
      expect(got.map((a) => a.timestamp)).toEqual(made.filter((a) => a.subjects[0] === "s7" && a.predicates[0] === "odd").map((a) => a.timestamp).reverse());
      expect(got).toHaveLength(20);
    });
  });
}
