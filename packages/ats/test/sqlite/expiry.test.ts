/** The expiry conformance cases (conformance/cases/expiry.ts) on the SQLite store, and how its plans leave expired rows out. */
import { afterEach, describe, expect, it } from "@jest/globals";
import { expiryCases } from "../conformance/cases/expiry.js";
import { sqlite } from "../conformance/sqlite.js";
import { cmd, filter, tempStore, type TempStore } from "../helpers.js";

expiryCases(sqlite);

describe("expiry in SQLite's plans", () => {
  let t: TempStore;
  afterEach(() => t.cleanup());

  it("adds the expiry check only while some attestation can expire, on the partial index", async () => {
    t = tempStore();
    await t.store.generateAndCreate(cmd(), { source: "p" });
    expect(t.store.explain(filter({ subjects: ["s"], limit: 5 })).sql).not.toContain("expires_at");
    await t.store.generateAndCreate(cmd({ attributes: { expires_at: Date.now() + 60_000 } }), { source: "p" });
    const { sql } = t.store.explain(filter({ subjects: ["s"], limit: 5 }));
    expect(sql).toContain("expires_at");
    const detail = (t.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ timeStart: 0, timeEnd: 1, limit: 1, driverValue: "s", now: 0 }) as { detail: string }[])
      .map((r) => r.detail)
      .join(" | ");
    expect(detail).toContain("USING COVERING INDEX attestations_expires_at (expires_at>? AND expires_at<?)");
    expect(detail).not.toMatch(/SCAN (a|t|attestations)\b/);
  });
});
