/**
 * Schedules plugins create at run time (the store behind ScheduleService), and the two ways an
 * executor turns a job down before running it: JobDeferred (back in the queue until a time,
 * the attempt not counted) and JobRefused (failed at once, no retries). Real SQLite files.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { JobDeferred, JobRefused, Pulse, type Executor } from "../src/index.js";
import { manualClock, scriptedExecutor, tempDb, testOptions, waitFor, type TempDb } from "./helpers.js";

const MIN = 60_000;

let t: TempDb;
let pulses: Pulse[] = [];
afterEach(async () => {
  for (const p of pulses) await p.stop(0);
  pulses = [];
  t.cleanup();
});


/** A Pulse on the test's database; with `executor`, on the system clock. */
function setup(executor?: Executor) {
  const clock = manualClock();
  const pulse = new Pulse(testOptions(t.db, executor ?? scriptedExecutor().executor, executor ? {} : { clock }));
  pulses.push(pulse);
  return { pulse, clock };
}

const schedule = (id: string, owner = "notes", payload = Buffer.from('{"n":1}')) => ({ id, owner, handler: "notes/tick", intervalSeconds: 60, payload, metadata: "" });

describe("plugin schedules", () => {
  it("fires one with its payload every interval, skips while its job is unfinished, and catches up once", async () => {
    t = tempDb();
    const { pulse, clock } = setup();
    pulse.handlers.register("notes", ["tick"]);
    const { record, existed } = await pulse.createPluginSchedule(schedule("s1"));
    expect(existed).toBe(false);
    expect(record).toMatchObject({ id: "s1", owner: "notes", plugin: "notes", handlerName: "tick", state: "active", nextRunAt: clock.t + MIN });
    expect(await pulse.scheduler.tick()).toEqual([]);
    clock.t += MIN;
    const [job] = await pulse.scheduler.tick();
    expect(job).toMatchObject({ handler: "notes/tick", source: "schedule:s1", status: "queued" });
    expect(job!.payload.toString()).toBe('{"n":1}');
    clock.t += MIN;
    expect(await pulse.scheduler.tick()).toEqual([]); // its job has not run: this run is skipped
    await pulse.start();
    await waitFor(pulse, job!.id, "completed");
    clock.t += 10 * 60 * MIN;
    expect(await pulse.scheduler.tick()).toHaveLength(1);
    expect((await pulse.pluginSchedule("s1"))!.nextRunAt).toBe(clock.t + MIN);
  });

  it("returns the owner's identical active schedule instead of a second one; another owner or payload gets its own", async () => {
    t = tempDb();
    const { pulse } = setup();
    await pulse.createPluginSchedule(schedule("s1"));
    expect(await pulse.createPluginSchedule(schedule("s2"))).toMatchObject({ existed: true, record: { id: "s1" } });
    expect(await pulse.createPluginSchedule(schedule("s3", "other"))).toMatchObject({ existed: false, record: { id: "s3" } });
    expect(await pulse.createPluginSchedule(schedule("s4", "notes", Buffer.from("{}")))).toMatchObject({ existed: false });
    expect((await pulse.listPluginSchedules("notes")).map((s) => s.id)).toEqual(["s1", "s4"]);
  });

  it("does not fire while paused or deleted, nor before its handler is registered; a deleted one stays deleted", async () => {
    t = tempDb();
    const { pulse, clock } = setup();
    await pulse.createPluginSchedule(schedule("s1"));
    clock.t += MIN;
    expect(await pulse.scheduler.tick()).toEqual([]); // notes/tick is not registered yet
    pulse.handlers.register("notes", ["tick"]);
    await pulse.setPluginScheduleState("s1", "paused");
    expect(await pulse.scheduler.tick()).toEqual([]);
    clock.t += 5 * MIN;
    expect((await pulse.setPluginScheduleState("s1", "active")).nextRunAt).toBe(clock.t); // resumed late: due now
    expect(await pulse.scheduler.tick()).toHaveLength(1);
    await pulse.setPluginScheduleState("s1", "deleted");
    await expect(pulse.setPluginScheduleState("s1", "active")).rejects.toThrow("no schedule with id s1");
    expect((await pulse.pluginSchedule("s1"))!.state).toBe("deleted");
  });

  it("refuses an interval under a second and a handler that is not plugin/handler", async () => {
    t = tempDb();
    const { pulse } = setup();
    await expect(pulse.createPluginSchedule({ ...schedule("s1"), intervalSeconds: 0 })).rejects.toThrow("interval_seconds must be a whole number of seconds >= 1, got 0");
    await expect(pulse.createPluginSchedule({ ...schedule("s1"), handler: "tick" })).rejects.toThrow('a schedule\'s handler must be plugin/handler, got "tick"');
  });
});

describe("an executor turning a job down", () => {
  it("JobDeferred puts the job back unrun until its time, attempt not counted, reason in its error and log; it runs after", async () => {
    t = tempDb();
    let deferUntil = Date.now() + 300;
    const ran: string[] = [];
    const { pulse } = setup(async (job) => {
      if (Date.now() < deferUntil) throw new JobDeferred(deferUntil, "over budget: the daily budget is spent");
      ran.push(job.id);
      return { success: true };
    });
    pulse.handlers.register("p", ["h"]);
    await pulse.start();
    const job = await pulse.enqueue({ handler: "p/h" });
    const waiting = await waitFor(pulse, job.id, (j) => j.status === "queued" && j.error !== "");
    expect(waiting).toMatchObject({ attempts: 0, error: "over budget: the daily budget is spent" });
    expect(waiting.runAt).toBeGreaterThanOrEqual(deferUntil);
    const done = await waitFor(pulse, job.id, "completed");
    expect(done.attempts).toBe(1);
    expect(ran).toEqual([job.id]);
    const logs = await pulse.logs(job.id);
    expect(logs.some((l) => l.stage === "pulse" && l.message.startsWith("not started: over budget: the daily budget is spent; waits until "))).toBe(true);
    deferUntil = 0;
  });

  it("JobRefused fails the job at once, without its remaining attempts", async () => {
    t = tempDb();
    const { pulse } = setup(async () => {
      throw new JobRefused("over budget: the estimate alone is over the limit");
    });
    pulse.handlers.register("p", ["h"]);
    await pulse.start();
    const job = await pulse.enqueue({ handler: "p/h", maxAttempts: 5 });
    const failed = await waitFor(pulse, job.id, "failed");
    expect(failed).toMatchObject({ attempts: 1, error: "over budget: the estimate alone is over the limit" });
  });
});
