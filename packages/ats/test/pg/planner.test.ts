/** The planner conformance cases on the PostgreSQL store, and the plans PostgreSQL makes of its SQL (EXPLAIN). */
import { expect, it } from "@jest/globals";
import type { AttestationFilter } from "@qntx/protocol";
import pg from "pg";
import { plannerCases } from "../conformance/cases/planner.js";
import { postgres } from "../conformance/postgres.js";
import { filter } from "../helpers.js";

plannerCases(postgres, (loaded) => {
  it("walks the term index newest first and stops at the limit: no sort, no semi-join over a posting list", async () => {
    const client = new pg.Client({ connectionString: loaded().pgUrl });
    await client.connect();
    try {
      await client.query("ANALYZE");
      const explain = async (f: Partial<AttestationFilter>): Promise<string> => {
        const plan = await loaded().explain(filter(f));
        const { rows } = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${plan.sql}`, plan.params as unknown[]);
        return rows.map((r) => r["QUERY PLAN"]).join("\n");
      };
      // A short posting list: PostgreSQL may collect it through a bitmap and sort five rows,
      // but always on the term index, with the other dimension checked per row.
      const selective = await explain({ subjects: ["s1"], predicates: ["is"], limit: 5 });
      expect(selective).toMatch(/Bitmap Index Scan on attestation_terms_pkey|Index (Only )?Scan (Backward )?using attestation_terms_pkey on attestation_terms t/);
      expect(selective).toContain("SubPlan");
      expect(selective).not.toMatch(/Semi Join|Seq Scan/);
      // A dense value with a limit: a backward walk of its range that stops at the limit, no sort.
      const dense = await explain({ predicates: ["is"], contexts: ["c1"], limit: 5 });
      expect(dense).toMatch(/Index (Only )?Scan Backward using attestation_terms_pkey on attestation_terms t/);
      expect(dense).not.toMatch(/Sort|Semi Join|Seq Scan/);
      // No filter: newest first on the created_at index.
      expect(await explain({ limit: 3 })).toMatch(/Index Scan using attestations_created_at on attestations a/);
    } finally {
      await client.end();
    }
  });
});
