/**
 * Pulse on any storage, end to end: jobs run and finish, retries, and two Pulses ("hosts") on
 * one database — a schedule fires once per slot, a plugin's schedule created by both hosts is
 * kept once. (Hosts sharing a queue: pg/hosts.test.ts, PostgreSQL only.)
 */
import { expect, it } from "@jest/globals";
import { Pulse, type PulseOptions } from "../../../src/index.js";
import { manualClock, mode, scriptedExecutor, waitFor } from "../../helpers.js";
import { storeSuite, type Stores, type StoreSubject } from "../subject.js";

/** A Pulse on `stores` with test settings. */
export function pulseOn(stores: Stores, extra: Partial<PulseOptions> & Pick<PulseOptions, "executor">): Pulse {
  return new Pulse({ stores, backoff: { baseMs: 10, maxMs: 100 }, scheduleTickMs: 0, pollMs: 50, ...extra });
}

/** The Pulse cases. */
export function pulseCases(subject: StoreSubject): void {
  storeSuite(subject, "Pulse", (open) => {
    it("runs a job to completion with its output, and retries a failing one until it succeeds", async () => {
      const stores = await open();
      const s = scriptedExecutor();
      const pulse = pulseOn(stores, { executor: s.executor });
      await pulse.registerPlugin("p", ["h"]);
      await pulse.start();
      try {
        const ok = await pulse.enqueue({ handler: "p/h", payload: mode("ok") });
        const flaky = await pulse.enqueue({ handler: "p/h", payload: mode("failTimes", { n: 1 }) });
        expect(await waitFor(pulse, ok.id, "completed")).toMatchObject({ attempts: 1, costActual: 0.25, pluginVersion: "1.2.3" });
        expect((await pulse.get(ok.id))!.logs.map((l) => l.message)).toEqual(["did it"]);
        expect(await waitFor(pulse, flaky.id, "completed")).toMatchObject({ attempts: 2 });
        expect(s.callsFor(flaky.id).map((c) => c.call.attempt)).toEqual([1, 2]);
      } finally {
        await pulse.stop();
      }
    });

    it("a schedule fires once per slot across two hosts", async () => {
      const opened = await open();
      const other = await opened.another();
      const clock = manualClock();
      const executor = scriptedExecutor().executor;
      const a = pulseOn(opened, { executor, clock });
      const b = pulseOn(other, { executor, clock });
      await a.registerPlugin("p", ["tick"], [{ handlerName: "tick", intervalSeconds: 60, enabledByDefault: true }]);
      await b.registerPlugin("p", ["tick"], [{ handlerName: "tick", intervalSeconds: 60, enabledByDefault: true }]);
      clock.t += 60_000;
      const [fromA, fromB] = await Promise.all([a.scheduler.tick(), b.scheduler.tick()]);
      expect(fromA.length + fromB.length).toBe(1);
      expect((await a.list()).filter((j) => j.source === "schedule").length).toBe(1);
    });

    it("a plugin schedule created by two hosts at once is kept once", async () => {
      const opened = await open();
      const other = await opened.another();
      const executor = scriptedExecutor().executor;
      const a = pulseOn(opened, { executor });
      const b = pulseOn(other, { executor });
      const input = (id: string) => ({ id, owner: "p", handler: "p/h", intervalSeconds: 30, payload: Buffer.from("x"), metadata: "" });
      const [ra, rb] = await Promise.all([a.createPluginSchedule(input("s1")), b.createPluginSchedule(input("s2"))]);
      expect([ra.existed, rb.existed].sort()).toEqual([false, true]);
      expect((await a.listPluginSchedules("p")).length).toBe(1);
    });
  });
}
