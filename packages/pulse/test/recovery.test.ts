import { afterEach, describe, expect, it } from "@jest/globals";
import { HandlerRegistry, Pulse, SqliteJobStore, WorkerPool, type PulseJob } from "../src/index.js";
import { mode, scriptedExecutor, tempDb, testOptions, waitFor, type TempDb } from "./helpers.js";

describe("leases and recovery", () => {
  let t: TempDb;
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0)) await s();
    t.cleanup();
  });

  it("re-queues a job whose lease expired (dead worker) and another pool completes it; the attempt counts", async () => {
    t = tempDb();
    const store = new SqliteJobStore(t.db);
    const handlers = new HandlerRegistry();
    handlers.register("p", ["h"]);
    const x = scriptedExecutor();
    const pulse = new Pulse(testOptions(t.db, x.executor));
    pulse.handlers.register("p", ["h"]);
    const job = await pulse.enqueue({ handler: "p/h" });

    // A worker claims it with a 50 ms lease and dies (never renews, never finishes).
    const [claimed] = await store.claim("dead-worker", 1, 50, Date.now(), ["p/h"]);
    expect(claimed!.id).toBe(job.id);

    // A live pool (not a fresh host: no start-up recovery) picks it up once the lease expires.
    const pool = new WorkerPool({ store, handlers, executor: x.executor, pollMs: 20, leaseMs: 10_000 });
    const events: PulseJob[] = [];
    pool.events.on("job", (j) => events.push(j));
    const completed = new Promise<PulseJob>((resolve) => pool.events.on("job", (j) => j.status === "completed" && resolve(j)));
    pool.start();
    stops.push(() => pool.stop(0));
    const done = await completed;
    expect(done.attempts).toBe(2);
    expect(done.leaseOwner).toBeUndefined();
    const requeued = events.find((e) => e.status === "queued")!;
    expect(requeued.error).toBe("lease expired: its worker stopped renewing it (attempt 1 of 3)");
    expect(x.callsFor(job.id)).toHaveLength(1);

    // The dead worker's late completion is fenced off (owner and attempt no longer match).
    expect(await store.finish([{ kind: "complete", fence: { id: job.id, owner: "dead-worker", attempt: 1 }, job: claimed!, output: { result: Buffer.from("late") } }], Date.now())).toEqual([]);
    expect((await store.get(job.id))!.result!.toString()).toBe(JSON.stringify({ echo: job.id }));
  });

  it("fails a job whose lease expired on its last attempt", async () => {
    t = tempDb();
    const store = new SqliteJobStore(t.db);
    const pulse = new Pulse(testOptions(t.db, scriptedExecutor().executor));
    pulse.handlers.register("p", ["h"]);
    const job = await pulse.enqueue({ handler: "p/h", maxAttempts: 1 });
    await store.claim("dead-worker", 1, 1, Date.now(), ["p/h"]);
    const [expired] = await store.expireLeases(Date.now() + 10);
    expect(expired).toMatchObject({ id: job.id, status: "failed", attempts: 1 });
  });

  it("recovers jobs left running by a host that died: a new host re-runs them, the old one is fenced off", async () => {
    // Ownership model: every Pulse has a random lease-owner id. A new host's start() re-queues
    // every running job whose lease is owned by someone else: they were run by a previous host
    // process, which is gone (one started Pulse per database).
    t = tempDb();
    const hostA = scriptedExecutor();
    const a = new Pulse(testOptions(t.db, hostA.executor, { leaseMs: 60_000 }));
    a.handlers.register("p", ["h"]);
    await a.start();
    stops.push(() => a.stop(0));
    const job = await a.enqueue({ handler: "p/h", payload: mode("hang") });
    const aCall = await hostA.whenCalled(job.id);
    expect((await a.get(job.id))!.leaseOwner).toBe(a.owner);

    // Host A "crashes": it is never stopped. A new host opens the same file.
    const hostB = scriptedExecutor();
    hostB.overrides.set(job.id, "ok"); // the new plugin process answers
    const b = new Pulse(testOptions(t.open(), hostB.executor));
    b.handlers.register("p", ["h"]);
    const done = waitFor(b, job.id, "completed");
    const recovered = await b.start();
    stops.push(() => b.stop(0));
    expect(recovered.map((j) => [j.id, j.status, j.error])).toEqual([
      [job.id, "queued", "recovered at start-up: the host that ran it is gone (attempt 1 of 3)"],
    ]);
    const finished = await done;
    expect(finished.attempts).toBe(2);
    expect(hostB.callsFor(job.id)).toHaveLength(1);

    // Host A, if it were still alive, cannot overwrite the outcome: its run ends fenced off.
    await a.stop(0);
    expect(aCall.call.signal.aborted).toBe(true);
    expect((await b.get(job.id))!).toMatchObject({ status: "completed", attempts: 2 });
  });

  it("a cancel requested while the owner is gone ends the job cancelled at lease expiry", async () => {
    t = tempDb();
    const store = new SqliteJobStore(t.db);
    const pulse = new Pulse(testOptions(t.db, scriptedExecutor().executor));
    pulse.handlers.register("p", ["h"]);
    const job = await pulse.enqueue({ handler: "p/h" });
    await store.claim("other-host", 1, 5, Date.now(), ["p/h"]);
    const marked = await pulse.cancel(job.id);
    expect([marked.status, marked.cancelRequested]).toEqual(["running", true]);
    const [expired] = await store.expireLeases(Date.now() + 10);
    expect(expired).toMatchObject({ id: job.id, status: "cancelled" });
  });

  it("a running job cancelled from another host is aborted by its owner at lease renewal", async () => {
    t = tempDb();
    const x = scriptedExecutor();
    const owner = new Pulse(testOptions(t.db, x.executor, { leaseMs: 60 }));
    owner.handlers.register("p", ["h"]);
    await owner.start();
    stops.push(() => owner.stop(0));
    const job = await owner.enqueue({ handler: "p/h", payload: mode("hang") });
    const call = await x.whenCalled(job.id);
    const done = waitFor(owner, job.id, "cancelled");
    // Another connection (e.g. the CLI's host process) asks for the cancel.
    await new SqliteJobStore(t.open()).requestCancel(job.id, Date.now());
    expect((await done).attempts).toBe(1);
    expect(call.call.signal.aborted).toBe(true);
  });
});
