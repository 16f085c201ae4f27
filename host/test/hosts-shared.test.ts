/**
 * Two real `qntx server` processes on one PostgreSQL database: `qntx hosts` on either lists
 * both with their plugins; one killed with SIGKILL is shown gone on the other; a job's cost
 * spent on one host counts in the other's budget (the usage record is shared).
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, expect, it, jest } from "@jest/globals";
import { execa } from "execa";
import { createTestDatabase, pgSkipReason, type TestDatabase } from "@qntx/testing-pg";
import type { HostView } from "../src/hosts/directory.js";
import { CLI, adminHeaders, http, until } from "./harness.js";
import { callerTable } from "./helpers/mesh.js";
import { startServerProcess, type ServerProcess } from "./helpers/server-process.js";

jest.setTimeout(120_000);

const itPg = pgSkipReason() ? it.skip : it;
let database: TestDatabase | undefined;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  if (pgSkipReason()) return;
  database = await createTestDatabase();
  const host = { database: database.url, heartbeat_interval_ms: 300 };
  servers.push(...(await Promise.all([startServerProcess(host, callerTable("worker", "", { cost: "0.25" })), startServerProcess(host)])));
});
afterAll(async () => {
  for (const s of servers) {
    s.process.kill("SIGTERM");
    await s.process;
    rmSync(s.dir, { recursive: true, force: true });
  }
  await database?.drop();
});

const hostsOf = async (s: ServerProcess): Promise<HostView[]> => {
  const run = await execa(process.execPath, [CLI, "--data-dir", s.dataDir, "hosts", "--json"], { reject: false });
  expect(run.stderr).toBe("");
  return JSON.parse(run.stdout) as HostView[];
};

itPg("lists both hosts on either, each with its plugins, and counts one host's spend in the other's budget", async () => {
  const [a, b] = servers as [ServerProcess, ServerProcess];
  const fromB = await hostsOf(b);
  expect(fromB.map((h) => [h.address, h.state, h.plugins]).sort()).toEqual([[a.url, "up", ["worker"]], [b.url, "up", []]].sort());
  const job = (await http(`${a.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders({ dir: a.dir }), body: JSON.stringify({ handler: "worker/tick" }) })).json();
  await until(async () => ((await http(`${a.url}/api/pulse/jobs/${job.job.id}`)).json().job.status === "completed" ? true : undefined), "the job to complete on host A");
  const budget = await until(async () => {
    const seen = (await http(`${b.url}/api/pulse/budget`)).json();
    return seen.windows[0].spentUsd > 0 ? seen : undefined;
  }, "host B to see host A's spend");
  expect(budget.windows[0]).toMatchObject({ window: "daily", spentUsd: 0.25, operations: 1 });
});

itPg("shows a host killed with SIGKILL gone on the other, which stays up", async () => {
  const [a, b] = servers as [ServerProcess, ServerProcess];
  a.process.kill("SIGKILL");
  await a.process;
  const seen = await until(async () => {
    const hosts = await hostsOf(b);
    return hosts.find((h) => h.address === a.url)?.state === "gone" ? hosts : undefined;
  }, "host A shown gone on host B");
  expect(seen.find((h) => h.address === b.url)?.state).toBe("up");
});
