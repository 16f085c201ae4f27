import { afterEach, describe, expect, it } from "@jest/globals";
import { Pulse } from "../src/index.js";
import { scriptedExecutor, tempDb, testOptions, waitFor, type TempDb } from "./helpers.js";

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
});
