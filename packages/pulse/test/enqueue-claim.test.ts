import { afterEach, describe, expect, it } from "@jest/globals";
import { Pulse } from "../src/index.js";
import { mode, scriptedExecutor, tempDb, testOptions, waitFor, type TempDb } from "./helpers.js";

/** An idle pool claims a new job in the enqueue's own transaction: one commit from enqueue to dispatch. */
describe("enqueue and claim in one transaction", () => {
  let t: TempDb;
  let pulse: Pulse | undefined;
  afterEach(async () => {
    await pulse?.stop(0);
    t.cleanup();
  });

  /** A started Pulse whose store counts its claim calls. */
  async function counted(extra: Parameters<typeof testOptions>[2] = {}) {
    t = tempDb();
    const x = scriptedExecutor();
    pulse = new Pulse(testOptions(t.db, x.executor, { pollMs: 60_000, ...extra }));
    pulse.handlers.register("p", ["h"]);
    const calls = { enqueueAndClaim: [] as number[], claim: 0 };
    const store = pulse.store;
    const enqueueAndClaim = store.enqueueAndClaim.bind(store);
    store.enqueueAndClaim = (jobs, claim, now) => {
      calls.enqueueAndClaim.push(claim.limit);
      return enqueueAndClaim(jobs, claim, now);
    };
    const claim = store.claim.bind(store);
    store.claim = (...args) => {
      calls.claim++;
      return claim(...args);
    };
    await pulse.start();
    await new Promise((resolve) => setImmediate(resolve)); // the start-up poll's claim is done
    calls.claim = 0;
    return { pulse, x, calls };
  }

  it("runs a job enqueued on an idle pool without a separate claim, events in order", async () => {
    const { pulse, calls } = await counted({ concurrency: 3 });
    const seen: string[] = [];
    pulse.on("job", (j) => seen.push(j.status));
    const job = await pulse.enqueue({ handler: "p/h" });
    expect(job.status).toBe("queued");
    await waitFor(pulse, job.id, "completed");
    expect(calls.enqueueAndClaim).toEqual([3]);
    expect(calls.claim).toBe(0);
    expect(seen).toEqual(["queued", "running", "completed"]);
  });

  it("claims a waiting job ahead of the new one in dispatch order, each with its own data", async () => {
    let available = false;
    const { pulse, x, calls } = await counted({ concurrency: 2, isAvailable: (p) => p !== "slow" || available });
    pulse.handlers.register("slow", ["h"]);
    const waiting = await pulse.enqueue({ handler: "slow/h", payload: { n: "waiting" }, priority: 1 });
    // Its enqueue claimed (for p/h, the one available handler) and left it waiting.
    expect(calls.enqueueAndClaim).toEqual([2]);
    expect((await pulse.get(waiting.id))!).toMatchObject({ status: "queued", attempts: 0 });
    available = true; // no wake(): the next enqueue's own claim finds it
    calls.claim = 0;
    const fresh = await pulse.enqueue({ handler: "slow/h", payload: { n: "fresh" } });
    expect(calls.enqueueAndClaim).toEqual([2, 2]);
    await waitFor(pulse, fresh.id, "completed");
    await waitFor(pulse, waiting.id, "completed");
    expect(x.calls.map((c) => [c.job.id, JSON.parse(c.job.payload.toString()).n, c.job.status, c.job.attempts, c.job.leaseOwner])).toEqual([
      [waiting.id, "waiting", "running", 1, pulse.owner],
      [fresh.id, "fresh", "running", 1, pulse.owner],
    ]);
    expect(x.calls.map((c) => [c.job.priority, c.job.handler])).toEqual([[1, "slow/h"], [0, "slow/h"]]);
    expect(calls.claim).toBe(0);
  });

  it("a refused enqueue (duplicate id) claims nothing and leaves the pool working", async () => {
    const { pulse } = await counted();
    await pulse.enqueue({ handler: "p/h", id: "same", paused: true });
    await expect(pulse.enqueue({ handler: "p/h", id: "same" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect((await pulse.get("same"))!.status).toBe("paused");
    const next = await pulse.enqueue({ handler: "p/h" });
    expect((await waitFor(pulse, next.id, "completed")).attempts).toBe(1);
  });

  it("a delayed job is not claimed with its enqueue; it runs when due", async () => {
    const { pulse, calls } = await counted();
    const job = await pulse.enqueue({ handler: "p/h", runAt: Date.now() + 50 });
    expect(calls.enqueueAndClaim).toEqual([]);
    expect((await waitFor(pulse, job.id, "completed")).attempts).toBe(1);
  });
  /** Counts the row writes SQLite makes to pulse_jobs (temp triggers on the real table). */
  function countWrites(): { inserts: number; updates: number } {
    t.db.exec(`
      CREATE TEMP TABLE writes (kind TEXT NOT NULL);
      CREATE TEMP TRIGGER count_inserts AFTER INSERT ON main.pulse_jobs BEGIN INSERT INTO writes VALUES ('insert'); END;
      CREATE TEMP TRIGGER count_updates AFTER UPDATE ON main.pulse_jobs BEGIN INSERT INTO writes VALUES ('update'); END;`);
    const count = (kind: string) => (t.db.prepare("SELECT COUNT(*) AS n FROM writes WHERE kind = ?").get(kind) as { n: number }).n;
    return {
      get inserts() {
        return count("insert");
      },
      get updates() {
        return count("update");
      },
    };
  }

  it("a job claimed by its own enqueue is written once, born running with its lease", async () => {
    const { pulse, x } = await counted({ concurrency: 2 });
    const writes = countWrites();
    const job = await pulse.enqueue({ handler: "p/h", payload: mode("gate") });
    const call = await x.whenCalled(job.id);
    expect([writes.inserts, writes.updates]).toEqual([1, 0]);
    const stored = (await pulse.get(job.id))!;
    expect(stored).toMatchObject({ status: "running", attempts: 1, leaseOwner: pulse.owner });
    expect(stored.leaseExpiresAt).toBe(stored.startedAt! + pulse.pool.leaseMs);
    // What the executor got is what the store holds (no read-back, so built alike).
    const { logs: _logs, ...row } = stored;
    expect(call.job).toEqual(row);
    x.release(job.id);
    expect((await waitFor(pulse, job.id, "completed")).attempts).toBe(1);
  });

  it("a new job of higher priority than the waiting one it is claimed with starts first", async () => {
    let available = false;
    const { pulse, x } = await counted({ concurrency: 2, isAvailable: (p) => p !== "slow" || available });
    pulse.handlers.register("slow", ["h"]);
    const waiting = await pulse.enqueue({ handler: "slow/h", payload: mode("gate") });
    available = true;
    const writes = countWrites();
    const urgent = await pulse.enqueue({ handler: "slow/h", payload: mode("gate"), priority: 5 });
    await x.whenCalled(waiting.id);
    expect(x.calls.map((c) => c.job.id)).toEqual([urgent.id, waiting.id]);
    // A job was waiting, so the claim chose after the insert: both claimed by an UPDATE.
    expect([writes.inserts, writes.updates]).toEqual([1, 2]);
    expect((await pulse.get(waiting.id))!).toMatchObject({ status: "running", attempts: 1 });
    x.release(urgent.id);
    x.release(waiting.id);
    await waitFor(pulse, waiting.id, "completed");
  });

  it("more new jobs due than free slots: the highest priorities are claimed, the rest wait queued", async () => {
    const { pulse, x, calls } = await counted({ concurrency: 2 });
    const writes = countWrites();
    const [low, high, mid] = await pulse.enqueueMany([0, 5, 1].map((priority) => ({ handler: "p/h", payload: mode("gate"), priority })));
    expect(calls.enqueueAndClaim).toEqual([2]);
    await x.whenCalled(mid!.id);
    expect(x.calls.map((c) => c.job.id)).toEqual([high!.id, mid!.id]);
    expect([writes.inserts, writes.updates]).toEqual([3, 2]);
    expect((await pulse.get(low!.id))!).toMatchObject({ status: "queued", attempts: 0 });
    x.release(high!.id);
    const call = await x.whenCalled(low!.id);
    expect(call.job.attempts).toBe(1);
    x.release(mid!.id);
    x.release(low!.id);
    await waitFor(pulse, low!.id, "completed");
  });

  it("a paused job enqueued with a due one is stored paused, and only the due one runs", async () => {
    const { pulse, x } = await counted({ concurrency: 2 });
    const [paused, due] = await pulse.enqueueMany([
      { handler: "p/h", paused: true },
      { handler: "p/h", payload: mode("gate") },
    ]);
    await x.whenCalled(due!.id);
    expect((await pulse.get(paused!.id))!).toMatchObject({ status: "paused", attempts: 0 });
    expect(x.calls.map((c) => c.job.id)).toEqual([due!.id]);
    x.release(due!.id);
    await waitFor(pulse, due!.id, "completed");
    await pulse.resume(paused!.id);
    expect((await waitFor(pulse, paused!.id, "completed")).attempts).toBe(1);
  });
});
