/**
 * Several hosts sharing one queue on PostgreSQL (PostgreSQL only: the SQLite store is one
 * host's): each host runs only the handlers its plugins announce, whichever host enqueued; an
 * enqueue on one host wakes an idle other at once (NOTIFY); a host starting does not take jobs
 * running on a live host; a dead host's jobs are taken over once its lease runs out.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { pgSkipReason, type TestDatabase } from "@qntx/testing-pg";
import type { Pulse } from "../../src/index.js";
import { pulseOn } from "../conformance/cases/pulse.js";
import { pgHostStores, pulseTestDatabase } from "../conformance/postgres.js";
import { mode, scriptedExecutor, waitFor } from "../helpers.js";

const describePg = pgSkipReason() ? describe.skip : describe;

describePg("hosts sharing a queue on PostgreSQL", () => {
  let db: TestDatabase;
  const closers: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    db = await pulseTestDatabase();
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await db?.drop();
  });

  /** A host: its own pool and stores on the database, a Pulse with the given plugin handlers. */
  async function host(plugin: string, handlers: string[], extra: Parameters<typeof pulseOn>[1] = { executor: scriptedExecutor().executor }): Promise<Pulse> {
    const stores = await pgHostStores(db.url);
    const pulse = pulseOn(stores, { pollMs: 60_000, ...extra });
    await pulse.registerPlugin(plugin, handlers);
    await pulse.start();
    closers.push(async () => {
      await pulse.stop();
      await stores.close();
    });
    return pulse;
  }

  it("each host runs only its own handlers, whichever host enqueued, woken by NOTIFY (no poll)", async () => {
    const sa = scriptedExecutor();
    const sb = scriptedExecutor();
    const a = await host("alpha", ["h"], { executor: sa.executor });
    const b = await host("beta", ["h"], { executor: sb.executor });
    // The poll is a minute away: only the notification can wake the other host in time.
    const forB = await a.enqueue({ handler: "beta/h", payload: mode("ok") });
    const forA = await b.enqueue({ handler: "alpha/h", payload: mode("ok") });
    await waitFor(b, forB.id, "completed");
    await waitFor(a, forA.id, "completed");
    expect(sb.callsFor(forB.id).length).toBe(1);
    expect(sa.callsFor(forA.id).length).toBe(1);
    expect(sa.callsFor(forB.id).length + sb.callsFor(forA.id).length).toBe(0);
    // A bare name still needs a local plugin to resolve it.
    await expect(a.enqueue({ handler: "nobody-has-this" })).rejects.toMatchObject({ code: "UNKNOWN_HANDLER" });
  });

  it("a host starting leaves a live host's running job alone; a dead host's job is taken over after its lease", async () => {
    const s1 = scriptedExecutor();
    const first = await host("gamma", ["h"], { executor: s1.executor, leaseMs: 600 });
    const job = await first.enqueue({ handler: "gamma/h", payload: mode("gate") });
    await s1.whenCalled(job.id);
    const s2 = scriptedExecutor();
    const second = await host("gamma", ["h"], { executor: s2.executor, leaseMs: 600, pollMs: 100 });
    // The first host renews its lease: the job stays its own while it runs.
    s1.release(job.id);
    expect(await waitFor(first, job.id, "completed")).toMatchObject({ attempts: 1, leaseOwner: undefined });
    expect(s2.callsFor(job.id).length).toBe(0);

    // Now the first host dies mid-run (its pool stops renewing without giving the job back).
    const orphan = await first.enqueue({ handler: "gamma/h", payload: mode("hang") });
    await s1.whenCalled(orphan.id).catch(() => undefined);
    const owner = (await first.store.get(orphan.id))!.leaseOwner;
    first.pool["leases"].stop();
    first.pool["claims"].stop();
    const taken = await waitFor(second, orphan.id, (j) => j.status === "running" && j.leaseOwner === second.owner);
    expect(taken.attempts).toBe(2);
    expect(owner).toBe(first.owner);
  });
});
