import { afterEach, describe, expect, it } from "@jest/globals";
import { Pulse, toWireJob } from "../src/index.js";
import { mode, scriptedExecutor, tempDb, testOptions, waitFor, type TempDb } from "./helpers.js";

describe("worker pool", () => {
  let t: TempDb;
  let pulses: Pulse[] = [];
  const make = (x: ReturnType<typeof scriptedExecutor>, extra: Parameters<typeof testOptions>[2] = {}) => {
    const p = new Pulse(testOptions(t.db, x.executor, extra));
    pulses.push(p);
    return p;
  };
  afterEach(async () => {
    for (const p of pulses) await p.stop(0);
    pulses = [];
    t.cleanup();
  });

  it("runs a job and stores result, progress, cost, logs and plugin version", async () => {
    t = tempDb();
    const x = scriptedExecutor();
    const pulse = make(x, { defaultTimeoutSecs: 42 });
    pulse.handlers.register("hello", ["resize"]);
    const seen: string[] = [];
    pulse.on("job", (j) => seen.push(j.status));
    await pulse.start();
    const job = await pulse.enqueue({ handler: "resize", payload: { w: 1 }, costEstimate: 0.5 });
    const done = await waitFor(pulse, job.id, "completed");
    expect(done).toMatchObject({ attempts: 1, progress: { current: 10, total: 10 }, costActual: 0.25, costEstimate: 0.5, pluginVersion: "1.2.3", error: "" });
    expect(JSON.parse(done.result!.toString())).toEqual({ echo: job.id });
    const call = x.callsFor(job.id)[0]!.call;
    expect(call.handlerName).toBe("resize");
    expect(call.timeoutSecs).toBe(42);
    expect(call.deadline).toBeGreaterThan(Date.now() + 40_000);
    expect(call.signal.aborted).toBe(false);
    const stored = (await pulse.get(job.id))!;
    expect(stored.logs).toEqual([{ attempt: 1, timestamp: "2026-11-24T10:00:00Z", level: "info", message: "did it", stage: "main", metadata: '{"k":1}' }]);
    expect(stored.startedAt).toBeDefined();
    expect(stored.completedAt).toBeGreaterThanOrEqual(stored.startedAt!);
    expect(seen).toEqual(["queued", "running", "completed"]);
  });

  it("retries a failing job with exponential backoff, then fails it with the last error", async () => {
    t = tempDb();
    const x = scriptedExecutor();
    const pulse = make(x, { maxAttempts: 3, backoff: { baseMs: 20, maxMs: 1000 } });
    pulse.handlers.register("p", ["h"]);
    await pulse.start();
    const job = await pulse.enqueue({ handler: "p/h", payload: mode("fail") });
    const failed = await waitFor(pulse, job.id, "failed");
    expect(failed.attempts).toBe(3);
    expect(failed.error).toBe("boom #3");
    expect(failed.completedAt).toBeDefined();
    const at = x.callsFor(job.id).map((c) => c.at);
    expect(at).toHaveLength(3);
    // Equal jitter: the 1st delay is in [10, 20] ms, the 2nd in [20, 40] ms (timers may fire ~1 ms early).
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(9);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(19);
    const logs = await pulse.logs(job.id);
    expect(logs.filter((l) => l.stage === "run").map((l) => [l.attempt, l.message])).toEqual([
      [1, "attempt 1"],
      [2, "attempt 2"],
      [3, "attempt 3"],
    ]);
    expect(logs.filter((l) => l.stage === "pulse").map((l) => l.message)).toEqual([
      expect.stringMatching(/^attempt 1 of 3 failed: boom #1; retrying in \d+ ms$/),
      expect.stringMatching(/^attempt 2 of 3 failed: boom #2; retrying in \d+ ms$/),
      "attempt 3 of 3 failed: boom #3; giving up",
    ]);
  });

  it("honours a per-job max_attempts and recovers from transient failures", async () => {
    t = tempDb();
    const x = scriptedExecutor();
    const pulse = make(x);
    pulse.handlers.register("p", ["h"]);
    await pulse.start();
    const once = await pulse.enqueue({ handler: "p/h", payload: mode("fail"), maxAttempts: 1 });
    const flaky = await pulse.enqueue({ handler: "p/h", payload: mode("failTimes", { n: 2 }) });
    expect((await waitFor(pulse, once.id, "failed")).attempts).toBe(1);
    const ok = await waitFor(pulse, flaky.id, "completed");
    expect(ok.attempts).toBe(3);
    expect(ok.result!.toString()).toBe("recovered");
    expect(ok.error).toBe("");
  });

  it("treats an executor throw as a failure", async () => {
    t = tempDb();
    const x = scriptedExecutor();
    const pulse = make(x, { maxAttempts: 2 });
    pulse.handlers.register("p", ["h"]);
    await pulse.start();
    const job = await pulse.enqueue({ handler: "p/h", payload: mode("throw") });
    const failed = await waitFor(pulse, job.id, "failed");
    expect([failed.attempts, failed.error]).toEqual([2, "thrown #2"]);
  });

  it("times out a run at its deadline: the signal is aborted and the job retried", async () => {
    t = tempDb();
    const x = scriptedExecutor();
    const pulse = make(x);
    pulse.handlers.register("p", ["h"]);
    await pulse.start();
    const job = await pulse.enqueue({ handler: "p/h", payload: mode("hang"), timeoutSecs: 0.05, maxAttempts: 2 });
    const failed = await waitFor(pulse, job.id, "failed");
    expect([failed.attempts, failed.error]).toEqual([2, "timed out after 0.05s"]);
    const calls = x.callsFor(job.id);
    expect(calls).toHaveLength(2);
    for (const c of calls) {
      expect(c.call.timeoutSecs).toBe(0.05);
      expect(c.call.signal.aborted).toBe(true);
      expect((c.call.signal.reason as Error).name).toBe("TimeoutError");
    }
  });

  it("cancels a queued job at once and a running one by aborting its signal; neither is retried", async () => {
    t = tempDb();
    const x = scriptedExecutor();
    const pulse = make(x, { concurrency: 1 });
    pulse.handlers.register("p", ["h"]);
    const running = await pulse.enqueue({ handler: "p/h", payload: mode("hang") });
    const queued = await pulse.enqueue({ handler: "p/h" });
    await pulse.start();
    const call = await x.whenCalled(running.id);

    const q = await pulse.cancel(queued.id);
    expect([q.status, q.attempts]).toEqual(["cancelled", 0]);

    const r = await pulse.cancel(running.id);
    expect([r.status, r.attempts, r.error]).toEqual(["cancelled", 1, "cancelled"]);
    expect(call.call.signal.aborted).toBe(true);
    expect((call.call.signal.reason as Error).name).toBe("AbortError");
    expect((await pulse.cancel(running.id)).status).toBe("cancelled"); // idempotent

    // The freed slot runs the next job; the cancelled ones were never run again.
    const next = await pulse.enqueue({ handler: "p/h" });
    await waitFor(pulse, next.id, "completed");
    expect(x.callsFor(running.id)).toHaveLength(1);
    expect(x.callsFor(queued.id)).toHaveLength(0);
    await expect(pulse.cancel(next.id)).rejects.toMatchObject({ code: "INVALID_STATE" });
    await expect(pulse.cancel("nope")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("retry() re-queues a failed job with attempts reset", async () => {
    t = tempDb();
    const x = scriptedExecutor();
    const pulse = make(x, { maxAttempts: 1 });
    pulse.handlers.register("p", ["h"]);
    await pulse.start();
    const job = await pulse.enqueue({ handler: "p/h", payload: mode("fail") });
    expect((await waitFor(pulse, job.id, "failed")).error).toBe("boom #1");
    await expect(pulse.retry("nope")).rejects.toMatchObject({ code: "NOT_FOUND" });
    x.overrides.set(job.id, "ok"); // the cause is fixed
    const again = await pulse.retry(job.id);
    expect([again.status, again.attempts, again.error]).toEqual(["queued", 0, ""]);
    const done = await waitFor(pulse, job.id, "completed");
    expect(done.attempts).toBe(1);
    expect(x.callsFor(job.id).map((c) => c.call.attempt)).toEqual([1, 1]);
    await expect(pulse.retry(job.id)).rejects.toMatchObject({ code: "INVALID_STATE" });
  });

  it("records progress updates (UpdateJob) while a job runs and emits them", async () => {
    t = tempDb();
    const x = scriptedExecutor();
    const pulse = make(x);
    pulse.handlers.register("p", ["h"]);
    await pulse.start();
    const job = await pulse.enqueue({ handler: "p/h", payload: mode("gate") });
    await x.whenCalled(job.id);
    const progressed = waitFor(pulse, job.id, (j) => j.progress.current === 3);
    await pulse.updateWire({ ...toWireJob(job), progress: { current: 3, total: 10 }, costActual: 0.1, status: "completed" });
    const mid = await progressed;
    expect([mid.status, mid.progress.total, mid.costActual]).toEqual(["running", 10, 0.1]);
    await pulse.update(job.id, { logs: [{ timestamp: "2026-01-01T00:00:00Z", level: "info", message: "halfway", stage: "s", metadata: "" }] });
    x.release(job.id, { success: true }); // a response without progress keeps the reported progress
    const done = await waitFor(pulse, job.id, "completed");
    expect([done.progress.current, done.progress.total, done.costActual]).toEqual([3, 10, 0.1]);
    expect((await pulse.logs(job.id)).map((l) => l.message)).toEqual(["halfway"]);
    await expect(pulse.update(job.id, { progress: { current: 1, total: 1 } })).rejects.toMatchObject({ code: "INVALID_STATE" });
  });

  it("does not claim jobs of an unavailable plugin: they wait, then run after wake()", async () => {
    t = tempDb();
    const x = scriptedExecutor();
    let available = false;
    const pulse = make(x, { isAvailable: (p) => p !== "slow" || available, pollMs: 60_000 });
    pulse.handlers.register("slow", ["h"]);
    pulse.handlers.register("fast", ["h"]);
    await pulse.start();
    const waiting = await pulse.enqueue({ handler: "slow/h" });
    const other = await pulse.enqueue({ handler: "fast/h" });
    await waitFor(pulse, other.id, "completed"); // the pool claimed past the waiting job
    expect((await pulse.get(waiting.id))!).toMatchObject({ status: "queued", attempts: 0 });
    expect(x.callsFor(waiting.id)).toHaveLength(0);
    available = true;
    pulse.wake();
    expect((await waitFor(pulse, waiting.id, "completed")).attempts).toBe(1);
  });

  it("enqueue wakes an idle pool at once (no polling: pollMs is 60 s)", async () => {
    t = tempDb();
    const x = scriptedExecutor();
    const pulse = make(x, { pollMs: 60_000 });
    pulse.handlers.register("p", ["h"]);
    await pulse.start();
    await new Promise((r) => setImmediate(r)); // let the start-up poll finish: the pool is idle
    const t0 = Date.now();
    const job = await pulse.enqueue({ handler: "p/h" });
    await waitFor(pulse, job.id, "completed", 2000);
    expect(Date.now() - t0).toBeLessThan(1000);
    // A delayed retry also runs without waiting for the poll.
    const flaky = await pulse.enqueue({ handler: "p/h", payload: mode("failTimes", { n: 1 }) });
    expect((await waitFor(pulse, flaky.id, "completed", 2000)).attempts).toBe(2);
  });

  it("stop() aborts running jobs after the grace period and puts them back in the queue", async () => {
    t = tempDb();
    const x = scriptedExecutor();
    const pulse = make(x);
    pulse.handlers.register("p", ["h"]);
    await pulse.start();
    const job = await pulse.enqueue({ handler: "p/h", payload: mode("hang") });
    const call = await x.whenCalled(job.id);
    await pulse.stop(20);
    expect(call.call.signal.aborted).toBe(true);
    expect((await pulse.get(job.id))!).toMatchObject({ status: "queued", attempts: 0 });
  });
});
