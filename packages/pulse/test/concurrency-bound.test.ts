import { afterEach, describe, expect, it } from "@jest/globals";
import type Database from "better-sqlite3";
import { Pulse, SqliteJobStore, type Executor, type ExecutorResult, type PulseJob } from "../src/index.js";
import { tempDb, testOptions, waitFor, type TempDb } from "./helpers.js";

/**
 * Issue 15, finding 7: "during a restart that re-queued jobs, 8 jobs were `running` at once
 * with pulse_concurrency = 4". `concurrency` bounds two things a user can see, and these tests
 * watch both at every step (every executor call and return, every 'job' event, and every turn
 * of the event loop): the executor calls in flight, and the jobs the store says are `running`
 * (what `qntx pulse list` shows).
 */
describe("concurrency bounds what runs and what the store calls running", () => {
  let t: TempDb;
  let pulses: Pulse[] = [];
  let watchers: (() => void)[] = [];
  afterEach(async () => {
    for (const stop of watchers) stop();
    watchers = [];
    for (const p of pulses) await p.stop(0);
    pulses = [];
    t.cleanup();
  });

  /** Watches in-flight calls and `running` rows; `wrap` counts the calls of an executor. */
  function watch(db: Database.Database) {
    new SqliteJobStore(db); // creates the tables (migrations are idempotent)
    const running = db.prepare("SELECT COUNT(*) FROM pulse_jobs WHERE status = 'running'").pluck();
    const seen = { calls: 0, maxCalls: 0, maxRunning: 0 };
    const sample = () => {
      seen.maxRunning = Math.max(seen.maxRunning, running.get() as number);
    };
    // Every turn of the event loop, as a `qntx pulse list` served by the host between two of
    // the pool's steps would see it.
    let on = true;
    const tick = () => {
      if (!on) return;
      sample();
      setImmediate(tick);
    };
    setImmediate(tick);
    watchers.push(() => (on = false));
    const wrap = (inner: Executor): Executor => async (job, call) => {
      seen.calls++;
      seen.maxCalls = Math.max(seen.maxCalls, seen.calls);
      sample();
      try {
        return await inner(job, call);
      } finally {
        seen.calls--;
        sample();
      }
    };
    return { seen, sample, wrap, stop: () => (on = false) };
  }

  /** Answers a few turns later, as a plugin over gRPC does (the host commits in between). */
  const quick: Executor = async () => {
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    return { success: true };
  };

  const ended = (j: PulseJob) => j.status === "completed" || j.status === "failed" || j.status === "cancelled";

  it("a host restart re-queues the dead host's running jobs; with a backlog of quick jobs, at most `concurrency` run and are `running`", async () => {
    t = tempDb();
    const w = watch(t.db);
    const pulse = new Pulse(testOptions(t.db, w.wrap(quick), { concurrency: 4 }));
    pulses.push(pulse);
    pulse.handlers.register("p", ["h"]);
    pulse.on("job", w.sample);
    const jobs = await pulse.enqueueMany(Array.from({ length: 120 }, () => ({ handler: "p/h" })));
    // The previous host died with 4 jobs running (another lease owner, never renewed).
    await new SqliteJobStore(t.open()).claim("pulse-1234-deadhost", 4, 30_000, Date.now(), ["p/h"]);
    const all = Promise.all(jobs.map((j) => waitFor(pulse, j.id, "completed")));
    const recovered = await pulse.start();
    await all;
    w.stop();
    expect(recovered).toHaveLength(4);
    expect(await pulse.counts()).toEqual({ completed: 120 });
    expect({ calls: w.seen.maxCalls, running: w.seen.maxRunning }).toEqual({ calls: 4, running: 4 });
  });

  it("runs that time out or are cancelled keep their slot until their executor call returns", async () => {
    t = tempDb();
    const w = watch(t.db);
    // Every third job waits for its signal and answers a turn after the abort (grpc-js reports
    // a cancelled call asynchronously); the others answer quickly.
    const executor: Executor = (job, call) => {
      if (!JSON.parse(job.payload.toString()).slow) return quick(job, call);
      return new Promise<ExecutorResult>((_resolve, reject) => {
        call.signal.addEventListener("abort", () => setImmediate(() => reject(call.signal.reason)), { once: true });
      });
    };
    const pulse = new Pulse(testOptions(t.db, w.wrap(executor), { concurrency: 4, maxAttempts: 1 }));
    pulses.push(pulse);
    pulse.handlers.register("p", ["h"]);
    pulse.on("job", w.sample);
    // Slow jobs end by timeout (0.02 s) or by cancel (asked as they start).
    const jobs = await pulse.enqueueMany(
      Array.from({ length: 60 }, (_, i) => ({ handler: "p/h", payload: { slow: i % 3 === 0 }, timeoutSecs: i % 6 === 0 ? 0.02 : 60 })),
    );
    const cancelAtStart = new Set(jobs.filter((_, i) => i % 6 === 3).map((j) => j.id));
    pulse.on("job", (j) => {
      if (j.status === "running" && cancelAtStart.delete(j.id)) void pulse.cancel(j.id);
    });
    const all = Promise.all(jobs.map((j) => waitFor(pulse, j.id, ended)));
    await pulse.start();
    await all;
    w.stop();
    expect(await pulse.counts()).toEqual({ completed: 40, failed: 10, cancelled: 10 });
    expect({ calls: w.seen.maxCalls, running: w.seen.maxRunning }).toEqual({ calls: 4, running: 4 });
  });

  it("a call that ignores its abort holds its slot until it returns; the job is recorded at its timeout", async () => {
    t = tempDb();
    let answer: ((r: ExecutorResult) => void) | undefined;
    const started: string[] = [];
    const pulse = new Pulse(
      testOptions(
        t.db,
        (job) => {
          started.push(job.id);
          // The first job's call never looks at its signal; it returns when the test says so.
          if (started.length === 1) return new Promise<ExecutorResult>((resolve) => (answer = resolve));
          return Promise.resolve({ success: true });
        },
        { concurrency: 1, maxAttempts: 1 },
      ),
    );
    pulses.push(pulse);
    pulse.handlers.register("p", ["h"]);
    const [a, b] = await pulse.enqueueMany([{ handler: "p/h", timeoutSecs: 0.02 }, { handler: "p/h" }]);
    await pulse.start();
    const failed = await waitFor(pulse, a!.id, "failed");
    expect(failed.error).toBe("timed out after 0.02s");
    // A's row is ended, but its call is still in flight: B waits in the queue, unclaimed.
    pulse.wake();
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([a!.id]);
    expect((await pulse.get(b!.id))!).toMatchObject({ status: "queued", attempts: 0 });
    answer!({ success: true });
    await waitFor(pulse, b!.id, "completed");
    expect(started).toEqual([a!.id, b!.id]);
    // A's late answer changes nothing: its run was recorded at the timeout.
    expect((await pulse.get(a!.id))!.status).toBe("failed");
  });
});
