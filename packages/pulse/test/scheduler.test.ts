import { afterEach, describe, expect, it } from "@jest/globals";
import { Pulse } from "../src/index.js";
import { manualClock, scriptedExecutor, tempDb, testOptions, waitFor, type TempDb } from "./helpers.js";

const MIN = 60_000;


describe("scheduler", () => {
  let t: TempDb;
  let pulses: Pulse[] = [];
  afterEach(async () => {
    for (const p of pulses) await p.stop(0);
    pulses = [];
    t.cleanup();
  });

  function setup(db = t.db, clock = manualClock()) {
    const x = scriptedExecutor();
    const pulse = new Pulse(testOptions(db, x.executor, { clock }));
    pulses.push(pulse);
    return { pulse, clock, x };
  }

  it("fires a due schedule, advances it by its interval, and catches up only once after downtime", async () => {
    t = tempDb();
    const { pulse, clock } = setup();
    const [s] = await pulse.scheduler.sync("feeds", [{ handlerName: "refresh", intervalSeconds: 60, enabledByDefault: true }]);
    pulse.handlers.register("feeds", ["refresh"]);
    expect(s).toMatchObject({ handler: "feeds/refresh", enabled: true, intervalSeconds: 60, nextRunAt: clock.t + MIN });
    await pulse.start();

    expect(await pulse.scheduler.tick()).toEqual([]); // not due yet
    clock.t += MIN;
    const [first] = await pulse.scheduler.tick();
    expect(first).toMatchObject({ handler: "feeds/refresh", handlerName: "refresh", source: "schedule", status: "queued" });
    await waitFor(pulse, first!.id, "completed");
    expect(await pulse.scheduler.tick()).toEqual([]); // advanced: nothing more at the same time
    expect((await pulse.schedules("feeds"))[0]).toMatchObject({ nextRunAt: clock.t + MIN, lastJobId: first!.id, lastRunAt: clock.t });

    // Ten hours of downtime: one catch-up run, then one interval from now (no burst of 600).
    clock.t += 10 * 60 * MIN;
    const catchUp = await pulse.scheduler.tick();
    expect(catchUp).toHaveLength(1);
    await waitFor(pulse, catchUp[0]!.id, "completed");
    expect(await pulse.scheduler.tick()).toEqual([]);
    expect((await pulse.schedules())[0]!.nextRunAt).toBe(clock.t + MIN);

    // Regular cadence resumes, on the interval grid.
    clock.t += MIN + 5000;
    const [next] = await pulse.scheduler.tick();
    expect(next).toBeDefined();
    expect((await pulse.schedules())[0]!.nextRunAt).toBe(clock.t - 5000 + MIN);
  });

  it("skips a run while the previous job has not finished (no pile-up)", async () => {
    t = tempDb();
    const { pulse, clock } = setup(); // never started: jobs stay queued
    await pulse.registerPlugin("p", ["h"], [{ handlerName: "h", intervalSeconds: 60, enabledByDefault: true }]);
    clock.t += MIN;
    const [job] = await pulse.scheduler.tick();
    clock.t += MIN;
    expect(await pulse.scheduler.tick()).toEqual([]);
    expect((await pulse.schedules())[0]).toMatchObject({ lastJobId: job!.id, nextRunAt: clock.t + MIN });
    expect(await pulse.counts()).toEqual({ queued: 1 });
  });

  it("keeps the schedules of a gone plugin without firing them, and resumes when it is back", async () => {
    t = tempDb();
    const { pulse, clock } = setup();
    await pulse.registerPlugin("p", ["h"], [{ handlerName: "p/h", intervalSeconds: 30, enabledByDefault: true }]);
    pulse.unregisterPlugin("p");
    clock.t += 5 * MIN;
    expect(await pulse.scheduler.tick()).toEqual([]);
    expect(await pulse.schedules()).toHaveLength(1);
    await expect(pulse.enqueue({ handler: "p/h" })).rejects.toMatchObject({ code: "UNKNOWN_HANDLER" });
    await pulse.registerPlugin("p", ["h"]);
    expect(await pulse.scheduler.tick()).toHaveLength(1);
    expect(await pulse.scheduler.tick()).toEqual([]);
  });

  it("honours enabled_by_default, interval 0 and schedules a plugin stops announcing", async () => {
    t = tempDb();
    const { pulse, clock } = setup();
    await pulse.registerPlugin("p", ["a", "b", "c"], [
      { handlerName: "a", intervalSeconds: 60, enabledByDefault: false },
      { handlerName: "b", intervalSeconds: 0, enabledByDefault: true },
      { handlerName: "c", intervalSeconds: 60, enabledByDefault: true, description: "cleanup", atsCode: "ax c" },
    ]);
    clock.t += MIN;
    const fired = await pulse.scheduler.tick();
    expect(fired.map((j) => j.handler)).toEqual(["p/c"]);
    expect(JSON.parse(fired[0]!.payload.toString())).toEqual({ ats_code: "ax c" });
    await pulse.scheduler.setEnabled("p/a", true);
    expect((await pulse.scheduler.tick()).map((j) => j.handler)).toEqual(["p/a"]);
    await expect(pulse.scheduler.setEnabled("p/zzz", true)).rejects.toMatchObject({ code: "NOT_FOUND" });

    // Re-sync (plugin restarted): enabled flags and next runs are kept; dropped schedules deleted.
    const before = await pulse.schedules("p");
    const after = await pulse.scheduler.sync("p", [
      { handlerName: "a", intervalSeconds: 60, enabledByDefault: false },
      { handlerName: "b", intervalSeconds: 0, enabledByDefault: true },
    ]);
    expect(after.map((s) => [s.handler, s.enabled, s.nextRunAt])).toEqual(
      before.filter((s) => s.handler !== "p/c").map((s) => [s.handler, s.enabled, s.nextRunAt]),
    );
    await expect(pulse.scheduler.sync("p", [{ handlerName: "x", intervalSeconds: -1 }])).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("keeps schedules durable across reopen", async () => {
    t = tempDb();
    const clock = manualClock();
    const first = setup(t.db, clock);
    await first.pulse.registerPlugin("p", ["h"], [{ handlerName: "h", intervalSeconds: 120, enabledByDefault: true }]);
    const next = (await first.pulse.schedules())[0]!.nextRunAt;
    t.db.close();
    clock.t += 60_000;
    const second = setup(t.open(), clock);
    await second.pulse.registerPlugin("p", ["h"], [{ handlerName: "h", intervalSeconds: 120, enabledByDefault: true }]);
    expect((await second.pulse.schedules())[0]!.nextRunAt).toBe(next); // a restart does not push it back
    clock.t = next;
    expect(await second.pulse.scheduler.tick()).toHaveLength(1);
  });

  it("ticks on its own timer once started", async () => {
    t = tempDb();
    const x = scriptedExecutor();
    const pulse = new Pulse(testOptions(t.db, x.executor, { scheduleTickMs: 10 }));
    pulses.push(pulse);
    await pulse.registerPlugin("p", ["h"], [{ handlerName: "h", intervalSeconds: 1, enabledByDefault: true }]);
    const completed = new Promise<string>((resolve) => pulse.on("job", (j) => j.status === "completed" && resolve(j.id)));
    await pulse.start();
    const id = await completed;
    expect((await pulse.get(id))!.source).toBe("schedule");
  });
});
