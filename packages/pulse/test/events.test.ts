/**
 * Pulse's typed events (events.ts) on a real SQLite file: `job:claimed`, `job:completed`,
 * `job:retried`, `job:failed` and `lease:reclaimed` (expired and recovered), each once, in
 * order, after the `job` event of the same change.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { Pulse, SqliteJobStore, type EnqueueInput, type JobStatus, type PulseEvents, type PulseJob } from "../src/index.js";
import { mode, scriptedExecutor, tempDb, testOptions, waitFor, type TempDb } from "./helpers.js";

type Seen = Array<{ event: string; status: string; attempts: number; extra?: Record<string, unknown> }>;

/** Records every event of `pulse` about job `id` (the `job` event as `job/<status>`). */
function record(pulse: Pulse, id: string): Seen {
  const seen: Seen = [];
  pulse.on("job", (job) => job.id === id && seen.push({ event: `job/${job.status}`, status: job.status, attempts: job.attempts }));
  for (const event of ["job:claimed", "job:completed", "job:failed", "job:retried", "lease:reclaimed"] as const) {
    pulse.on(event, (e: PulseEvents[typeof event][0]) => {
      if (e.job.id !== id) return;
      const { job, ...extra } = e as { job: { status: string; attempts: number } } & Record<string, unknown>;
      seen.push({ event, status: job.status, attempts: job.attempts, ...(Object.keys(extra).length ? { extra } : {}) });
    });
  }
  return seen;
}

describe("typed events", () => {
  let t: TempDb;
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0)) await s();
    t.cleanup();
  });

  async function started(extra: Parameters<typeof testOptions>[2] = {}): Promise<Pulse> {
    const pulse = new Pulse(testOptions(t.db, scriptedExecutor().executor, extra));
    pulse.handlers.register("p", ["h"]);
    await pulse.start();
    stops.push(() => pulse.stop(0));
    return pulse;
  }

  /** Enqueues job `id` on a started Pulse, recording its events until it is `status`. */
  async function runOne(id: string, input: Omit<EnqueueInput, "handler" | "id">, status: JobStatus): Promise<{ seen: Seen; job: PulseJob }> {
    t = tempDb();
    const pulse = await started();
    const seen = record(pulse, id);
    await pulse.enqueue({ handler: "p/h", id, ...input });
    return { seen, job: await waitFor(pulse, id, status) };
  }

  it("a run that succeeds: job:claimed (running, attempt 1), then job:completed", async () => {
    const { seen } = await runOne("ok-1", { payload: mode("ok") }, "completed");
    expect(seen.map((s) => [s.event, s.status, s.attempts])).toEqual([
      ["job/queued", "queued", 0],
      ["job/running", "running", 1],
      ["job:claimed", "running", 1],
      ["job/completed", "completed", 1],
      ["job:completed", "completed", 1],
    ]);
  });

  it("a run that fails: job:retried with the error and when, then job:failed once attempts are spent", async () => {
    const { seen, job: failed } = await runOne("fail-1", { payload: mode("fail"), maxAttempts: 2 }, "failed");
    const typed = seen.filter((s) => !s.event.startsWith("job/"));
    expect(typed.map((s) => [s.event, s.status, s.attempts])).toEqual([
      ["job:claimed", "running", 1],
      ["job:retried", "queued", 1],
      ["job:claimed", "running", 2],
      ["job:failed", "failed", 2],
    ]);
    expect(typed[1]!.extra).toEqual({ error: "boom #1", retryAt: expect.any(Number) });
    expect(typed[3]!.extra).toEqual({ error: "boom #2" });
    expect(failed.error).toBe("boom #2");
  });

  it("lease:reclaimed (expired): a worker stopped renewing its lease; the job runs again", async () => {
    t = tempDb();
    const store = new SqliteJobStore(t.db);
    // Started first (a start-up would recover the job instead), claiming nothing until told.
    let available = false;
    const pulse = await started({ pollMs: 20, isAvailable: () => available });
    const id = "dead-worker-1";
    const seen = record(pulse, id);
    await pulse.enqueue({ handler: "p/h", id });
    // A worker claims it with a 50 ms lease and dies (never renews, never finishes).
    expect((await store.claim("dead-worker", 1, 50, Date.now(), ["p/h"])).map((j) => j.id)).toEqual([id]);
    available = true;
    await waitFor(pulse, id, "completed");
    const reclaimed = seen.find((s) => s.event === "lease:reclaimed")!;
    expect(reclaimed).toMatchObject({ status: "queued", attempts: 1, extra: { cause: "expired" } });
    expect(seen.filter((s) => !s.event.startsWith("job/")).map((s) => s.event)).toEqual(["lease:reclaimed", "job:claimed", "job:completed"]);
  });

  it("lease:reclaimed (recovered): a host that died left the job running; a new host's start takes it back", async () => {
    t = tempDb();
    const store = new SqliteJobStore(t.db);
    const before = new Pulse(testOptions(t.db, scriptedExecutor().executor));
    before.handlers.register("p", ["h"]);
    const job = await before.enqueue({ handler: "p/h" });
    // The dead host's lease is long: only the start-up recovery can take the job back.
    await store.claim(before.owner, 1, 60_000, Date.now(), ["p/h"]);
    const after = new Pulse(testOptions(t.open(), scriptedExecutor().executor));
    after.handlers.register("p", ["h"]);
    const seen = record(after, job.id);
    await after.start();
    stops.push(() => after.stop(0));
    await waitFor(after, job.id, "completed");
    expect(seen.find((s) => s.event === "lease:reclaimed")).toMatchObject({ status: "queued", attempts: 1, extra: { cause: "recovered" } });
  });
});
