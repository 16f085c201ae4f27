import { afterEach, describe, expect, it } from "@jest/globals";
import { Pulse, SqliteJobStore, type PulseJob } from "../src/index.js";
import { mode, scriptedExecutor, tempDb, testOptions, waitFor, type TempDb } from "./helpers.js";

/**
 * Dispatch-ahead: after quick runs the pool claims the next jobs ahead and starts one the
 * moment a run ends, before that run's outcome is written. These tests put a job in the
 * "ready" list on purpose: concurrency 1, a quick job A, then a gated job B and a job C. A's
 * quick end makes the refill claim B (started) and C (claimed ahead, waiting behind B).
 */
/** Given back to the queue: queued and no longer reserved (a reserved job is queued too). */
const given = (j: PulseJob) => j.status === "queued" && j.leaseOwner === undefined;

describe("dispatch-ahead", () => {
  let t: TempDb;
  let pulses: Pulse[] = [];
  afterEach(async () => {
    for (const p of pulses) await p.stop(0);
    pulses = [];
    t.cleanup();
  });

  /** A started Pulse (concurrency 1) with C claimed ahead behind the gated B. */
  async function withReadyJob(extra: Parameters<typeof testOptions>[2] = {}) {
    t = tempDb();
    const x = scriptedExecutor();
    // fastRunMs 60 s: A counts as quick however loaded the machine is; readyMaxMs 60 s: C stays
    // claimed ahead until a test says otherwise.
    const pulse = new Pulse(testOptions(t.db, x.executor, { concurrency: 1, fastRunMs: 60_000, readyMaxMs: 60_000, ...extra }));
    pulses.push(pulse);
    pulse.handlers.register("p", ["h"]);
    const a = await pulse.enqueue({ handler: "p/h" });
    const b = await pulse.enqueue({ handler: "p/h", payload: mode("gate") });
    const c = await pulse.enqueue({ handler: "p/h" });
    const running: PulseJob[] = [];
    pulse.on("job", (j) => j.status === "running" && running.push(j));
    await pulse.start();
    await x.whenCalled(b.id);
    // B started from the claim that took C too, in the same synchronous step. C is reserved:
    // leased here but `queued`, its attempt uncounted, as it does not run yet.
    const stored = (await pulse.store.get(c.id))!;
    expect([stored.status, stored.attempts, stored.leaseOwner]).toEqual(["queued", 0, pulse.owner]);
    expect(x.callsFor(c.id)).toHaveLength(0);
    expect(running.map((j) => j.id)).toEqual([a.id, b.id]); // no 'running' event before its call starts
    return { pulse, x, a, b, c };
  }

  it("starts a job claimed ahead the moment a run ends, before that run's outcome is written", async () => {
    t = tempDb();
    const statusAtCall = new Map<string, string | undefined>();
    const order: string[] = [];
    let read: ((id: string) => string) | undefined;
    const pulse = new Pulse(
      testOptions(t.db, async (job) => {
        // The previous job's row, read synchronously as this call starts.
        const prev = order[order.length - 1];
        statusAtCall.set(job.id, prev && read!(prev));
        order.push(job.id);
        // Answer two turns later, as a plugin over gRPC answers after the host's next turn (an
        // instant answer would end the job claimed ahead before the finisher even ran).
        for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
        return { success: true };
      }, { concurrency: 1, fastRunMs: 60_000 }),
    );
    pulses.push(pulse);
    const statement = t.db.prepare("SELECT status FROM pulse_jobs WHERE id = ?").pluck(); // after Pulse made the table
    read = (id) => statement.get(id) as string;
    pulse.handlers.register("p", ["h"]);
    const jobs = await pulse.enqueueMany(Array.from({ length: 6 }, () => ({ handler: "p/h" })));
    const last = waitFor(pulse, jobs[5]!.id, "completed");
    await pulse.start();
    await last;
    expect(order).toEqual(jobs.map((j) => j.id)); // dispatch order kept
    // From the third job on, each started while the one before was still `running` in the store.
    expect(jobs.slice(2).map((j) => statusAtCall.get(j.id))).toEqual(["running", "running", "running", "running"]);
    expect(await pulse.counts()).toEqual({ completed: 6 });
  });

  it("cancelling a job claimed ahead ends it cancelled without running it or counting an attempt", async () => {
    const { pulse, x, b, c } = await withReadyJob();
    const cancelled = await pulse.cancel(c.id);
    expect([cancelled.status, cancelled.attempts, cancelled.error]).toEqual(["cancelled", 0, "cancelled"]);
    x.release(b.id);
    await waitFor(pulse, b.id, "completed");
    expect(x.callsFor(c.id)).toHaveLength(0);
    expect((await pulse.get(c.id))!.status).toBe("cancelled");
  });

  it("a job claimed ahead behind a slow run goes back to the queue, its lease renewed meanwhile", async () => {
    // Lease 60 ms, renewed every 20 ms, expiry polled every 20 ms: without renewal C's lease
    // would expire long before the give-back (and come back with a 'lease expired' error).
    const { pulse, x, b, c } = await withReadyJob({ leaseMs: 60, pollMs: 20, readyMaxMs: 250 });
    const back = await waitFor(pulse, c.id, given);
    expect([back.attempts, back.error, back.leaseOwner]).toEqual([0, "", undefined]);
    expect(x.callsFor(c.id)).toHaveLength(0);
    x.release(b.id);
    const done = await waitFor(pulse, c.id, "completed");
    expect(done.attempts).toBe(1);
    expect(x.callsFor(c.id)).toHaveLength(1);
  });

  it("a cancel of a job claimed ahead asked from another process is seen at lease renewal", async () => {
    const { pulse, x, b, c } = await withReadyJob({ leaseMs: 90 });
    const done = waitFor(pulse, c.id, "cancelled");
    await new SqliteJobStore(t.open()).requestCancel(c.id, Date.now());
    expect((await done).attempts).toBe(0);
    x.release(b.id);
    await waitFor(pulse, b.id, "completed");
    expect(x.callsFor(c.id)).toHaveLength(0);
  });

  it("stop() gives jobs claimed ahead back at once, attempt uncounted", async () => {
    const { pulse, x, b, c } = await withReadyJob();
    await pulse.stop(0);
    expect((await pulse.get(c.id))!).toMatchObject({ status: "queued", attempts: 0, error: "", leaseOwner: undefined });
    expect((await pulse.get(b.id))!).toMatchObject({ status: "queued", attempts: 0 });
    expect(x.callsFor(c.id)).toHaveLength(0);
  });

  it("a job claimed ahead whose plugin became unavailable is given back, not run", async () => {
    let available = true;
    const { pulse, x, b, c } = await withReadyJob({ isAvailable: () => available });
    available = false;
    x.release(b.id);
    const back = await waitFor(pulse, c.id, given);
    expect([back.attempts, back.error]).toEqual([0, ""]);
    expect(x.callsFor(c.id)).toHaveLength(0);
    available = true;
    pulse.wake();
    expect((await waitFor(pulse, c.id, "completed")).attempts).toBe(1);
  });

  it("pausing a job claimed ahead gives up its reservation: it never starts, and runs after resume", async () => {
    const { pulse, x, b, c } = await withReadyJob();
    const paused = await pulse.pause(c.id);
    expect([paused.status, paused.attempts, paused.leaseOwner]).toEqual(["paused", 0, undefined]);
    x.release(b.id);
    await waitFor(pulse, b.id, "completed");
    expect(x.callsFor(c.id)).toHaveLength(0);
    await pulse.resume(c.id);
    expect((await waitFor(pulse, c.id, "completed")).attempts).toBe(1);
  });

  it("another process cannot pause a job claimed ahead (it is about to start); its owner can", async () => {
    const { pulse, c } = await withReadyJob();
    const other = new SqliteJobStore(t.open());
    await expect(other.pause(c.id, Date.now())).rejects.toMatchObject({ code: "INVALID_STATE" });
    expect((await pulse.pause(c.id)).status).toBe("paused");
  });

  it("a job claimed ahead, cancelled as its run starts (its start not written yet), ends cancelled after one attempt", async () => {
    const { pulse, x, b, c } = await withReadyJob();
    // C's 'running' event comes from B's ending, in the same step, before the batch that
    // writes B's ending and C's start: the cancel finds C's row still reserved.
    const cancelled = new Promise<PulseJob>((resolve) => {
      pulse.on("job", (j) => {
        if (j.id === c.id && j.status === "running") void pulse.cancel(c.id).then(resolve);
      });
    });
    x.release(b.id);
    const done = await cancelled;
    expect([done.status, done.attempts, done.error]).toEqual(["cancelled", 1, "cancelled"]);
    expect((await x.whenCalled(c.id)).call.signal.aborted).toBe(true);
    expect((await pulse.get(c.id))!).toMatchObject({ status: "cancelled", attempts: 1, leaseOwner: undefined });
  });

  it("a dead host's jobs claimed ahead go back at start-up, and an expired reservation is dropped, attempt uncounted", async () => {
    t = tempDb();
    const store = new SqliteJobStore(t.db);
    const x = scriptedExecutor();
    const pulse = new Pulse(testOptions(t.db, x.executor));
    pulses.push(pulse);
    pulse.handlers.register("p", ["h"]);
    const [a, b] = await pulse.enqueueMany([{ handler: "p/h" }, { handler: "p/h" }]);
    // A dead host had A claimed ahead; another worker has B claimed ahead with a short lease.
    expect(await store.finishAndClaim([], { owner: "pulse-1-deadhost", limit: 0, reserve: 1, leaseMs: 60_000, handlers: ["p/h"] }, Date.now()))
      .toMatchObject({ claimed: [{ id: a!.id, status: "queued", attempts: 0, leaseOwner: "pulse-1-deadhost" }] });
    await store.finishAndClaim([], { owner: "another-worker", limit: 0, reserve: 1, leaseMs: 1, handlers: ["p/h"] }, Date.now());
    // Neither is claimable while reserved.
    expect(await store.claim("someone", 2, 1000, Date.now(), ["p/h"])).toEqual([]);
    expect(await store.expireLeases(Date.now() + 10)).toMatchObject([{ id: b!.id, status: "queued", attempts: 0, leaseOwner: undefined }]);
    const recovered = await pulse.start();
    expect(recovered).toMatchObject([{ id: a!.id, status: "queued", attempts: 0, leaseOwner: undefined }]);
    for (const j of [a!, b!]) expect((await waitFor(pulse, j.id, "completed")).attempts).toBe(1);
  });
});
