/** The planner conformance cases on the SQLite store, and the indexes its SQL uses (EXPLAIN QUERY PLAN). */
import { expect, it } from "@jest/globals";
import type { AttestationFilter } from "@qntx/protocol";
import { plannerCases } from "../conformance/cases/planner.js";
import { sqlite } from "../conformance/sqlite.js";
import { filter } from "../helpers.js";

plannerCases(sqlite, (loaded) => {
  it("uses the indexes it means to: no full-table scan, no sort on single-value plans", async () => {
    const detail = async (f: Partial<AttestationFilter>): Promise<string> => {
      const { sql } = await loaded().explain(filter(f));
      const params: Record<string, unknown> = { timeStart: 0, timeEnd: 1, limit: 1, driverValue: "x", now: 0 };
      for (const d of ["subjects", "predicates", "contexts", "actors"]) params[d] = "[]";
      return (loaded().sqlite!.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((r) => r.detail).join(" | ");
    };
    const single = await detail({ subjects: ["s1"], predicates: ["is"], limit: 5 });
    expect(single).toContain("SEARCH t USING PRIMARY KEY (dim=? AND value=?)");
    expect(single).toContain("SEARCH x EXISTS USING PRIMARY KEY (dim=? AND value=? AND created_at=? AND att=?)");
    expect(single).toContain("SEARCH a USING INTEGER PRIMARY KEY (rowid=?)");
    expect(single).not.toContain("TEMP B-TREE");
    expect(single).not.toMatch(/SCAN (a|t)\b/);
    const time = await detail({ timeStart: 100, timeEnd: 120, contexts: ["c1", "c2"] });
    expect(time).toContain("USING COVERING INDEX attestations_timestamp");
    expect(await detail({ limit: 3 })).toBe("SCAN a USING INDEX attestations_created_at");
  });
});
