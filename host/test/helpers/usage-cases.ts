/**
 * The usage record's conformance cases: every {@link UsageStore} (SQLite and PostgreSQL) must
 * pass the same ones, so budgets sum the same spend whichever database the host is on.
 */
import { describe, expect, it } from "@jest/globals";
import type { UsageRecord, UsageStore } from "../../src/budget/usage-store.js";

/** A spend of `costUsd` by `plugin` at `at`. */
export function spend(at: number, costUsd: number, over: Partial<UsageRecord> = {}): UsageRecord {
  return { at, plugin: "notes", kind: "call", name: "llm/Chat", provider: "brain", costUsd, promptTokens: 3, completionTokens: 4, totalTokens: 7, ...over };
}

/**
 * Registers the cases. `open` gives a fresh, empty store for each test (and `openAgain` a
 * second store on the same database, as another host would open it).
 */
export function usageStoreCases(name: string, open: () => Promise<UsageStore>, openAgain: () => Promise<UsageStore>): void {
  describe(`${name}: usage record conformance`, () => {
    it("sums the costs at or after a time, counting only records with a cost", async () => {
      const store = await open();
      const t0 = 1_700_000_000_000;
      await Promise.all([store.record(spend(t0, 0.5)), store.record(spend(t0 + 10, 0.25)), store.record(spend(t0 + 20, 0)), store.record(spend(t0 - 5, 9))]);
      expect(await store.spendSince(t0)).toEqual({ usd: 0.75, count: 2 });
      expect(await store.costsSince(t0)).toEqual([{ at: t0, usd: 0.5 }, { at: t0 + 10, usd: 0.25 }]);
      expect(await store.spendSince(t0 + 100)).toEqual({ usd: 0, count: 0 });
    });

    it("replaces a keyed record's cost and tokens, keeping its first time, also within one batch", async () => {
      const store = await open();
      const t0 = 1_700_000_100_000;
      void store.record(spend(t0, 0.1, { kind: "job", name: "notes/count", provider: "" }), "job:a");
      await store.record(spend(t0 + 50, 0.2, { kind: "job", name: "notes/count", provider: "", totalTokens: 9 }), "job:a");
      await store.record(spend(t0 + 90, 0.4, { kind: "job", name: "notes/count", provider: "" }), "job:a");
      expect(await store.spendSince(t0)).toEqual({ usd: 0.4, count: 1 });
      expect(await store.costsSince(0)).toEqual([{ at: t0, usd: 0.4 }]);
    });

    it("lists the newest records first, with every field", async () => {
      const store = await open();
      await store.record(spend(1, 0.1, { plugin: "a" }));
      await store.record(spend(2, 0.2, { plugin: "b", kind: "job", name: "b/run", provider: "", promptTokens: 0, completionTokens: 0, totalTokens: 0 }));
      expect(await store.recent(5)).toEqual([
        { at: 2, plugin: "b", kind: "job", name: "b/run", provider: "", costUsd: 0.2, promptTokens: 0, completionTokens: 0, totalTokens: 0 },
        spend(1, 0.1, { plugin: "a" }),
      ]);
      expect(await store.recent(1)).toHaveLength(1);
    });

    it("shares the record with another store on the same database (another host)", async () => {
      const one = await open();
      const other = await openAgain();
      await one.record(spend(5_000, 1.5));
      await other.record(spend(5_001, 2));
      expect(await one.spendSince(0)).toEqual({ usd: 3.5, count: 2 });
      expect(await other.spendSince(0)).toEqual({ usd: 3.5, count: 2 });
    });
  });
}
