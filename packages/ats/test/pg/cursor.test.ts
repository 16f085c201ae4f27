/**
 * iterate on PostgreSQL streams from a server-side cursor: the rows stay on the server until
 * fetched, writes go on meanwhile, and the connection is handed back (or dropped, when the
 * server killed it) however the iteration ends.
 */
import { beforeAll, expect, it } from "@jest/globals";
import type pg from "pg";
import type { PostgresAttestationStore } from "../../src/index.js";
import { loadIterateData } from "../conformance/cases/iterate.js";
import { cmd, filter } from "../helpers.js";
import { describePg, useAtsDatabase, waitFor } from "./support.js";

describePg("iterate on PostgreSQL", () => {
  const file = useAtsDatabase();
  let store: PostgresAttestationStore;
  let admin: pg.Client;
  /** The store's sessions that sit in an open transaction (a cursor between fetches). */
  const inTransaction = async (): Promise<{ pid: number; query: string }[]> =>
    (
      await admin.query<{ pid: number; query: string }>(
        "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'qntx-ats' AND state = 'idle in transaction'",
      )
    ).rows;

  beforeAll(async () => {
    store = await file.open({}, "file");
    await loadIterateData(store);
    admin = await file.admin();
  });

  it("keeps the rows on the server until fetched, lets writes through, and ends the transaction on return()", async () => {
    const cursor = store.iterate(filter());
    const first3 = [await cursor.next(), await cursor.next(), await cursor.next()].map((r) => r.value!.timestamp);
    expect(first3).toEqual([9999, 9998, 9997]);
    // Nothing more was loaded: the cursor waits on the server for the next FETCH.
    expect((await inTransaction()).map((s) => s.query)).toEqual([expect.stringMatching(/^FETCH 256 FROM qntx_iterate/)]);
    const during = await store.generateAndCreate(cmd({ subjects: ["during"] }), { source: "p" });
    expect(await store.exists(during.id)).toBe(true);
    expect((await cursor.return!()).done).toBe(true);
    expect(await inTransaction()).toEqual([]);
  });

  it("fails with DATABASE_UNAVAILABLE when the server kills its connection mid-stream, and the store goes on", async () => {
    const cursor = store.iterate(filter({ predicates: ["common"] }));
    await cursor.next();
    const [session] = await inTransaction();
    await admin.query("SELECT pg_terminate_backend($1)", [session!.pid]);
    // The rows of the first batch are already here; the next fetch meets the dead connection.
    let error: unknown;
    for (let i = 0; i < 300 && error === undefined; i++) await cursor.next().catch((e: unknown) => (error = e));
    expect(error).toMatchObject({ code: "DATABASE_UNAVAILABLE", message: expect.stringMatching(/^streaming attestations: cannot reach the attestation database/) });
    expect((await cursor.next()).done).toBe(true);
    expect(await store.query(filter({ subjects: ["s1"], limit: 1 }))).toHaveLength(1);
  });

  it("does not keep close() waiting on a cursor its consumer abandoned", async () => {
    const other = await file.open();
    const cursor = other.iterate(filter());
    await cursor.next();
    expect(await inTransaction()).toHaveLength(1);
    await other.close();
    // The server ends the session a moment after the connection closes.
    await waitFor("the cursor's session to end", async () => (await inTransaction()).length === 0);
    // The abandoned consumer ending it later is harmless.
    expect((await cursor.return!()).done).toBe(true);
  });
});
