/**
 * The host directory: on SQLite `GET /api/hosts` and `qntx hosts` show this host; on a real
 * PostgreSQL database, processes that join heart-beat, one SIGKILLed is shown `gone` once it
 * misses its beats, one stopped cleanly at once, and a new host migrates the table only once.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { execa, type ResultPromise } from "execa";
import { createPool } from "@qntx/ats";
import { createTestDatabase, pgSkipReason, type TestDatabase } from "@qntx/testing-pg";
import { hostState, type HostView } from "../src/hosts/directory.js";
import { PgHostDirectory } from "../src/hosts/pg-directory.js";
import { HOST_VERSION } from "../src/version.js";
import { CLI, http, startTestHost, until, type TestHost } from "./harness.js";

jest.setTimeout(60_000);

describe("alone on SQLite", () => {
  let t: TestHost;
  beforeAll(async () => {
    t = await startTestHost("");
  });
  afterAll(async () => t?.close());

  it("GET /api/hosts lists this host, up, with the shape the dashboard reads", async () => {
    const { hosts } = (await http(`${t.url}/api/hosts`)).json() as { hosts: HostView[] };
    const self = (await http(`${t.url}/api/host`)).json() as { id: string };
    expect(hosts).toEqual([{ id: self.id, address: t.url, version: HOST_VERSION, plugins: [], lastSeen: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), state: "up" }]);
  });

  it("qntx hosts prints it as a table", async () => {
    const run = await execa(process.execPath, [CLI, "--data-dir", join(t.dir, "data"), "hosts"], { reject: false });
    expect(run.exitCode).toBe(0);
    const [header, row] = run.stdout.split("\n");
    expect(header).toMatch(/^ID\s+STATE\s+ADDRESS\s+VERSION\s+LAST SEEN\s+PLUGINS$/);
    expect(row).toContain(` up `);
    expect(row).toContain(t.url);
  });
});

const MEMBER = fileURLToPath(new URL("./fixtures/directory-member.mjs", import.meta.url));
const HEARTBEAT_MS = 200;
const describePg = pgSkipReason() ? describe.skip : describe;

describe("a host's state", () => {
  it("is up until it misses its beats, and gone once stopped", () => {
    expect(hostState(10_000, false, 10_000 + 3 * 5000, 5000)).toBe("up");
    expect(hostState(10_000, false, 10_001 + 3 * 5000, 5000)).toBe("gone");
    expect(hostState(10_000, true, 10_000, 5000)).toBe("gone");
  });
});

describePg("shared on PostgreSQL", () => {
  let database: TestDatabase;
  const members: ResultPromise[] = [];
  // Answers the process in an object: an execa process is a thenable, which `await` would wait out.
  const join = async (id: string): Promise<{ process: ResultPromise }> => {
    const member = execa(process.execPath, [MEMBER, database.url, id, String(HEARTBEAT_MS)], { reject: false });
    members.push(member);
    await new Promise<void>((resolve, reject) => {
      member.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("joined") && resolve());
      void member.then((r) => reject(new Error(`member ${id} ended: ${r.stderr}`)));
    });
    return { process: member };
  };
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const m of members) m.kill("SIGKILL");
    await database?.drop();
  });

  it("shows every member up, a SIGKILLed one gone after it misses its beats, one stopped cleanly gone at once", async () => {
    const [a, b] = await Promise.all([join("host-a"), join("host-b"), join("host-c")]);
    const pool = createPool(database.url);
    const watcher = await PgHostDirectory.start(pool, database.url, () => ({ id: "watcher", address: "http://127.0.0.1/watcher", version: "test", plugins: [] }), { heartbeatMs: HEARTBEAT_MS });
    try {
      const all = await watcher.list();
      expect(all.map((h) => [h.id, h.state])).toEqual([["host-a", "up"], ["host-b", "up"], ["host-c", "up"], ["watcher", "up"]]);
      expect(all[0]).toMatchObject({ address: "http://127.0.0.1/host-a", version: "test", plugins: ["notes"] });
      a!.process.kill("SIGKILL");
      await a!.process;
      await until(async () => ((await watcher.list()).find((h) => h.id === "host-a")?.state === "gone" ? true : undefined), "host-a shown gone");
      b!.process.kill("SIGTERM");
      expect((await b!.process).exitCode).toBe(0);
      const after = await watcher.list();
      expect(after.map((h) => [h.id, h.state])).toEqual([["host-c", "up"], ["watcher", "up"], ["host-a", "gone"], ["host-b", "gone"]]);
    } finally {
      await watcher.close();
      await pool.end();
    }
  });
});
