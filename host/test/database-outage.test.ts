/**
 * The database lost at run time: a host on PostgreSQL reached through a TCP proxy the test
 * cuts. While it is away the host keeps serving, `GET /api/host` says the database is
 * unhealthy and why, a new job is refused with 503 DATABASE_UNAVAILABLE (not a 500), the
 * outage is logged once, and the job that was running is not failed: its ending waits, and
 * once the proxy is back the job is completed on its first attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createTestDatabase, pgSkipReason, startTcpProxy, type TcpProxy, type TestDatabase } from "@qntx/testing-pg";
import { adminHeaders, http, jobPluginTable, startTestHost, until, type TestHost } from "./harness.js";
import { pulseApi } from "./helpers/pulse-api.js";

const describePg = pgSkipReason() ? describe.skip : describe;

describePg("the database lost at run time", () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let t: TestHost;
  beforeAll(async () => {
    db = await createTestDatabase();
    const url = new URL(db.url);
    proxy = await startTcpProxy(Number(url.port));
    url.port = String(proxy.port);
    t = await startTestHost(jobPluginTable("worker"), { database: url.toString() });
  }, 60_000);
  afterAll(async () => {
    await proxy?.restore();
    await t?.close();
    await proxy?.close();
    await db?.drop();
  });

  const hostDatabase = async () => (await http(`${t.url}/api/host`)).json().database as { healthy: boolean; detail?: string; kind: string };

  it("pauses instead of failing, says so in its health, and resumes with nothing lost", async () => {
    const api = pulseApi(() => t);
    expect(await hostDatabase()).toMatchObject({ kind: "postgres", healthy: true });
    const job = await api.enqueue({ handler: "worker/slow", payload: { ms: 1500, steps: 3 } });
    await api.waitFor(job.id, ["running"]);

    await proxy.cut();
    const down = await until(async () => {
      const d = await hostDatabase();
      return d.healthy ? undefined : d;
    }, "the host to report the database unhealthy");
    expect(down.detail).toContain("unreachable");

    const refused = await http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify({ handler: "worker/echo" }) });
    expect(refused.status).toBe(503);
    expect(refused.json()).toMatchObject({ code: "DATABASE_UNAVAILABLE" });
    expect(refused.json().hint).toBeTruthy();

    await proxy.restore();
    const done = await api.waitFor(job.id, ["completed", "failed", "cancelled"], 30_000);
    expect(done).toMatchObject({ status: "completed", attempts: 1 });
    await until(async () => ((await hostDatabase()).healthy ? true : undefined), "the host to report the database back");
    // Logged once, however many retries the outage took.
    expect(t.logs.filter((l) => String(l.msg).includes("Pulse's database is unreachable"))).toHaveLength(1);
    expect(t.logs.some((l) => String(l.msg).includes("the database is back"))).toBe(true);
  });
});
