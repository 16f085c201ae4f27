import { afterEach, describe, expect, it } from "@jest/globals";
import type { Job } from "@qntx/protocol";
import { PULSE_MIGRATIONS, Pulse, SqliteJobStore, migrate, schemaVersion, toWireJob } from "../src/index.js";
import { mode, scriptedExecutor, tempDb, testOptions, waitFor, type TempDb } from "./helpers.js";

function wireJob(partial: Partial<Job>): Job {
  return {
    id: "",
    handlerName: "",
    payload: Buffer.alloc(0),
    source: "",
    status: "",
    costEstimate: 0,
    costActual: 0,
    error: "",
    parentJobId: "",
    retryCount: 0,
    createdAt: 0,
    startedAt: 0,
    completedAt: 0,
    ...partial,
  };
}

describe("job store", () => {
  let t: TempDb;
  afterEach(() => t.cleanup());

  it("a claimed job is exactly what the store then holds, for a fresh job and for a retried one", async () => {
    t = tempDb();
    const store = new SqliteJobStore(t.db);
    const now = Date.now();
    const record = {
      id: "full", handler: "p/h", plugin: "p", handlerName: "h", payload: Buffer.from('{"k":1}'), source: "test",
      status: "queued" as const, priority: 3, runAt: now - 5, maxAttempts: 4, timeoutSecs: 7, costEstimate: 1.5,
      parentJobId: "parent", createdAt: now - 10,
    };
    await store.enqueue([record]);
    await store.updateProgress("full", { progress: { current: 2, total: 9 }, costActual: 0.5 }, now - 1);
    const [first] = await store.claim("me", 5, 30_000, now);
    expect(first).toEqual(await store.get("full"));
    expect(first).toMatchObject({ status: "running", attempts: 1, leaseOwner: "me", leaseExpiresAt: now + 30_000, progress: { current: 2, total: 9 }, costActual: 0.5, timeoutSecs: 7 });
    // A failed attempt goes back to the queue with its error and result; the next claim reads them.
    const fence = { id: "full", owner: "me", attempt: 1 };
    await store.finish([{ kind: "fail", fence, job: first!, error: "boom", retryAt: now, output: { result: Buffer.from("partial"), pluginVersion: "1.2.3" } }], now);
    const [second] = await store.claim("me", 5, 30_000, now + 1);
    expect(second).toEqual(await store.get("full"));
    expect(second).toMatchObject({ attempts: 2, error: "boom", pluginVersion: "1.2.3", startedAt: now + 1, completedAt: undefined });
    expect(second!.result).toEqual(Buffer.from("partial"));
  });

  it("claims exactly up to each limit, across more limits than it keeps statements for, and refuses a fractional one", async () => {
    t = tempDb();
    const store = new SqliteJobStore(t.db);
    const now = Date.now();
    const record = (i: number) => ({
      id: `j${i}`, handler: "p/h", plugin: "p", handlerName: "h", payload: Buffer.alloc(0), source: "",
      status: "queued" as const, priority: 0, runAt: now, maxAttempts: 3, timeoutSecs: undefined, costEstimate: 0, parentJobId: "", createdAt: now,
    });
    await store.enqueue(Array.from({ length: 600 }, (_, i) => record(i)));
    // The limit is part of each claim statement's SQL: 1, 2, … 33 take 561 jobs in insertion
    // order, then 300 more distinct limits (past the statement cache's bound) take the rest.
    let taken = 0;
    for (let limit = 1; limit <= 33; limit++) {
      const got = await store.claim("me", limit, 30_000, now);
      expect(got.map((j) => j.id)).toEqual(Array.from({ length: limit }, (_, k) => `j${taken + k}`));
      taken += limit;
    }
    for (let limit = 1000; limit < 1300; limit++) taken += (await store.claim("me", limit, 30_000, now)).length;
    expect(taken).toBe(600);
    expect((await store.counts()).running).toBe(600);
    await expect(store.claim("me", 1.5, 30_000, now)).rejects.toThrow(/claim limit must be an integer/);
  });

  it("dispatches by priority (higher first), then earliest run_at, then insertion order", async () => {
    t = tempDb();
    const x = scriptedExecutor();
    const pulse = new Pulse(testOptions(t.db, x.executor, { concurrency: 1 }));
    pulse.handlers.register("p", ["h"]);
    const now = Date.now();
    const a = await pulse.enqueue({ handler: "p/h", runAt: now - 10 });
    const b = await pulse.enqueue({ handler: "p/h", runAt: now - 5000 }); // earlier run time, same priority
    const c = await pulse.enqueue({ handler: "p/h", priority: 5, runAt: now - 10 });
    const d = await pulse.enqueue({ handler: "p/h", runAt: now - 10 }); // same run time as a: insertion order
    const e = await pulse.enqueue({ handler: "p/h", priority: 5, runAt: now - 10 });
    const f = await pulse.enqueue({ handler: "p/h", priority: -1, runAt: now - 9000 });
    const later = await pulse.enqueue({ handler: "p/h", runAt: now + 60_000 }); // not due

    // One claim of several keeps the same order.
    const store = pulse.store;
    const batch = await store.claim("probe", 3, 1000, now, ["p/h"]);
    expect(batch.map((j) => j.id)).toEqual([c.id, e.id, b.id]);
    expect(batch.every((j) => j.status === "running" && j.attempts === 1 && j.leaseOwner === "probe")).toBe(true);
    await store.finish(batch.map((j) => ({ kind: "release" as const, fence: { id: j.id, owner: "probe", attempt: 1 }, job: j })), now);

    await pulse.start();
    await waitFor(pulse, f.id, "completed");
    expect(x.calls.map((c) => c.job.id)).toEqual([c.id, e.id, b.id, a.id, d.id, f.id]);
    expect((await pulse.get(later.id))!.status).toBe("queued");
    await pulse.stop();
  });

  it("fills id, status and created_at of a wire Job and converts back to the wire shape", async () => {
    t = tempDb();
    const pulse = new Pulse(testOptions(t.db, scriptedExecutor().executor));
    pulse.handlers.register("hello", ["resize"]);
    const before = Math.floor(Date.now() / 1000);
    const j = await pulse.enqueueWire(wireJob({ handlerName: "resize", payload: Buffer.from('{"w":1}') }), { source: "plugin:hello" });
    expect(j.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(j.status).toBe("queued");
    expect(j.source).toBe("plugin:hello");
    const w = toWireJob(j);
    expect(w).toMatchObject({ id: j.id, handlerName: "hello/resize", status: "queued", retryCount: 0, startedAt: 0, completedAt: 0, progress: { current: 0, total: 0 } });
    expect(w.createdAt).toBeGreaterThanOrEqual(before);
    expect(w.createdAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(w.payload.toString()).toBe('{"w":1}');

    const kept = await pulse.enqueueWire(wireJob({ id: "mine", handlerName: "hello/resize", createdAt: 1700000000, source: "cli", status: "paused", parentJobId: "root", costEstimate: 2 }));
    expect(toWireJob(kept)).toMatchObject({ id: "mine", createdAt: 1700000000, source: "cli", status: "paused", parentJobId: "root", costEstimate: 2 });
    await expect(pulse.enqueueWire(wireJob({ handlerName: "resize", status: "running" }))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("lists by status with a limit, newest first, and counts per status", async () => {
    t = tempDb();
    const pulse = new Pulse(testOptions(t.db, scriptedExecutor().executor));
    pulse.handlers.register("p", ["h"]);
    const jobs = await pulse.enqueueMany([{ handler: "p/h" }, { handler: "p/h" }, { handler: "p/h" }]);
    await pulse.pause(jobs[1]!.id);
    expect((await pulse.list({ status: "" })).map((j) => j.id)).toEqual(jobs.map((j) => j.id).reverse());
    expect((await pulse.list({ status: "queued", limit: 1 })).map((j) => j.id)).toEqual([jobs[2]!.id]);
    expect((await pulse.list({ status: "paused" })).map((j) => j.id)).toEqual([jobs[1]!.id]);
    await expect(pulse.list({ status: "weird" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(await pulse.counts()).toEqual({ queued: 2, paused: 1 });
  });

  it("keeps a paused job out of the queue until resumed", async () => {
    t = tempDb();
    const x = scriptedExecutor();
    const pulse = new Pulse(testOptions(t.db, x.executor, { concurrency: 1 }));
    pulse.handlers.register("p", ["h"]);
    const held = await pulse.enqueue({ handler: "p/h" });
    expect((await pulse.pause(held.id)).status).toBe("paused");
    expect((await pulse.pause(held.id)).status).toBe("paused"); // idempotent
    const other = await pulse.enqueue({ handler: "p/h" });
    await pulse.start();
    await waitFor(pulse, other.id, "completed");
    expect((await pulse.get(held.id))!.status).toBe("paused");
    expect(x.callsFor(held.id)).toHaveLength(0);
    expect((await pulse.resume(held.id)).status).toBe("queued");
    await waitFor(pulse, held.id, "completed");
    await expect(pulse.pause(held.id)).rejects.toMatchObject({ code: "INVALID_STATE" });
    await expect(pulse.resume("missing")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await pulse.stop();
  });

  it("is durable across reopen: jobs, results and logs survive, queued jobs run after restart", async () => {
    t = tempDb();
    const x = scriptedExecutor();
    let pulse = new Pulse(testOptions(t.db, x.executor));
    pulse.handlers.register("p", ["h"]);
    const done = await pulse.enqueue({ handler: "p/h" });
    await pulse.start();
    await waitFor(pulse, done.id, "completed");
    await pulse.stop();
    const waiting = await pulse.enqueue({ handler: "p/h", payload: mode("ok"), priority: 3, maxAttempts: 7, timeoutSecs: 9 });
    t.db.close();

    const db2 = t.open();
    pulse = new Pulse(testOptions(db2, x.executor));
    pulse.handlers.register("p", ["h"]);
    const old = (await pulse.get(done.id))!;
    expect(old.status).toBe("completed");
    expect(JSON.parse(old.result!.toString())).toEqual({ echo: done.id });
    expect(old.logs.map((l) => l.message)).toEqual(["did it"]);
    const w = (await pulse.get(waiting.id))!;
    expect([w.status, w.priority, w.maxAttempts, w.timeoutSecs]).toEqual(["queued", 3, 7, 9]);
    await pulse.start();
    await waitFor(pulse, waiting.id, "completed");
    await pulse.stop();
  });

  it("migrates once per namespace and refuses a newer schema", () => {
    t = tempDb();
    expect(migrate(t.db, "pulse", PULSE_MIGRATIONS)).toBe(PULSE_MIGRATIONS.length);
    expect(migrate(t.db, "pulse", PULSE_MIGRATIONS)).toBe(0);
    new SqliteJobStore(t.db); // opening again does not re-apply
    expect(schemaVersion(t.db, "pulse")).toBe(PULSE_MIGRATIONS.length);
    expect(schemaVersion(t.db, "ats")).toBe(0);
    expect(migrate(t.db, "other", ["CREATE TABLE other_t (x INTEGER)"])).toBe(1);
    expect(() => migrate(t.db, "pulse", [])).toThrow(/newer than this build knows/);
  });
});
