/**
 * The database going away while a host runs, for real: the store reaches PostgreSQL through
 * a TCP proxy process that the test kills (every connection drops, new ones are refused) and
 * starts again. Reads retry with backoff, then fail naming the URL (password masked); health
 * says so; watches catch up on what others wrote meanwhile, once the database is back.
 */
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { pgServerUrl } from "@qntx/testing-pg";
import { AtsError, PostgresAttestationStore } from "../../src/index.js";
import { TEST_STORE_OPTIONS } from "../conformance/postgres.js";
import { cmd, filter } from "../helpers.js";
import { describePg, freePort, kill, startNode, useAtsDatabase, waitFor } from "./support.js";

describePg("a database that goes away and comes back", () => {
  const file = useAtsDatabase();
  let proxy: ChildProcess | undefined;
  let port: number;
  const startProxy = async (): Promise<void> => {
    const { child, line } = await startNode("tcp-proxy.mjs", [String(port), new URL(pgServerUrl()).port]);
    expect(line).toBe(`listening ${port}`);
    proxy = child;
  };
  beforeAll(async () => {
    port = await freePort();
    await startProxy();
  });
  afterAll(async () => {
    if (proxy) await kill(proxy);
  });

  it("retries, reports, fails with the masked URL, and catches up when it is back", async () => {
    const events: string[] = [];
    // Through the proxy, with a password (trust authentication ignores it) that must never show.
    const viaProxy = `postgres://postgres:s3cret@127.0.0.1:${port}/${file.db.name}`;
    const masked = `postgres://postgres:***@127.0.0.1:${port}/${file.db.name}`;
    const a = await PostgresAttestationStore.open(viaProxy, { ...TEST_STORE_OPTIONS, readRetryMs: 1_500, log: (level, m) => events.push(`${level}: ${m}`) });
    const b = await file.open();
    try {
      const got: string[] = [];
      a.watch(filter({ subjects: ["outage"] }), (x) => got.push(x.id));
      const before = await b.generateAndCreate(cmd({ subjects: ["outage"] }), { source: "b" });
      await waitFor("the write before the outage", () => got.includes(before.id));

      await kill(proxy!);
      const error = await a.query(filter()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AtsError);
      expect((error as AtsError).code).toBe("DATABASE_UNAVAILABLE");
      expect((error as AtsError).message).toContain(`querying attestations: cannot reach the attestation database at ${masked}`);
      expect(JSON.stringify(a.health())).not.toContain("s3cret");
      expect(a.health()).toMatchObject({ healthy: false, detail: expect.stringContaining(`attestation database at ${masked} unreachable`) });
      await expect(a.generateAndCreate(cmd(), { source: "a" })).rejects.toMatchObject({ code: "DATABASE_UNAVAILABLE" });
      // Written by another host while this one cannot see the database.
      const meanwhile = await b.batchGenerateAndCreate([cmd({ subjects: ["outage"] }), cmd({ subjects: ["outage"], predicates: ["2"] })], { source: "b" });

      // A read that starts while the database is away and ends after it is back succeeds.
      const pending = a.count();
      await startProxy();
      expect(await pending).toBe(3);
      await waitFor("the writes made during the outage at the watch", () => got.length >= 3, 20_000);
      expect(got).toEqual([before.id, ...meanwhile.map((x) => x.id)]);
      await waitFor("health back", () => a.health().healthy, 20_000);
      expect(events.filter((e) => e.startsWith("warn:"))).toHaveLength(1);
      expect(events.at(-1)).toBe(`info: attestation database at ${masked} reachable again`);
      expect(events.join("\n")).not.toContain("s3cret");
    } finally {
      await a.close();
    }
  });
});
