/**
 * Lost notifications: a write whose NOTIFY never arrives — its writer did not send one, or the
 * LISTEN connection was cut by the server — still reaches the watches, once: the backstop
 * poll and the reconnect read from where the feed was.
 */
import { beforeAll, expect, it } from "@jest/globals";
import type pg from "pg";
import type { PostgresAttestationStoreOptions } from "../../src/index.js";
import { cmd, filter } from "../helpers.js";
import { describePg, useAtsDatabase, waitFor } from "./support.js";

describePg("lost notifications", () => {
  const file = useAtsDatabase();
  const host = (options?: PostgresAttestationStoreOptions) => file.open(options);
  let admin: pg.Client;
  beforeAll(async () => {
    admin = await file.admin();
  });

  it("delivers a write that never notified, through the backstop poll, once", async () => {
    const a = await host();
    const got: string[] = [];
    a.watch(filter({ subjects: ["silent", "sentinel"] }), (x) => got.push(x.id));
    // A writer that commits without NOTIFY (an older build, a hand-made insert).
    await admin.query(
      `INSERT INTO attestations (id, timestamp, created_at, source, signer_did, subjects, predicates, contexts, actors)
       VALUES ('silent-1', 1, 1, 'raw', '', '["silent"]', '["p"]', '["c"]', '[]')`,
    );
    await waitFor("the silent write at the watch", () => got.includes("silent-1"));
    // More polls happen (a notified write, the backstop): the silent write never comes again.
    const b = await host();
    const sentinel = await b.generateAndCreate(cmd({ subjects: ["sentinel"] }), { source: "b" });
    await waitFor("the sentinel", () => got.includes(sentinel.id));
    expect(got).toEqual(["silent-1", sentinel.id]);
  });

  it("reconnects a LISTEN connection the server cut, says so, and delivers what was written meanwhile", async () => {
    const events: string[] = [];
    const a = await host({ log: (level, message) => events.push(`${level}: ${message}`) });
    const b = await host({ log: () => undefined }); // its listener is cut too: nothing to report
    const got: string[] = [];
    a.watch(filter({ subjects: ["meanwhile"] }), (x) => got.push(x.id));
    const { rowCount } = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'qntx-ats-listen'",
    );
    expect(rowCount).toBe(2); // a's and b's
    await waitFor("a to notice", () => events.some((e) => e.startsWith("warn: attestation database at")));
    const written = await b.batchGenerateAndCreate([cmd({ subjects: ["meanwhile"] }), cmd({ subjects: ["meanwhile"] })], { source: "b" });
    await waitFor("the writes made while a listened to nothing", () => got.length >= 2);
    expect(got).toEqual(written.map((x) => x.id));
    await waitFor("a healthy again", () => a.health().healthy);
    expect(events.filter((e) => e.startsWith("info:"))).toEqual([expect.stringMatching(/^info: attestation database at postgres:\/\/.* reachable again$/)]);
  });
});
