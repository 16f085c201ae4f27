import { afterEach, describe, expect, it } from "@jest/globals";
import { Pulse, type PulseJob } from "../src/index.js";
import { tempDb, testOptions, type TempDb } from "./helpers.js";

describe("throughput smoke test", () => {
  let t: TempDb;
  afterEach(() => t.cleanup());

  it("runs 2,000 jobs exactly once each", async () => {
    t = tempDb();
    const calls = new Map<string, number>();
    const pulse = new Pulse(
      testOptions(t.db, async (job) => {
        calls.set(job.id, (calls.get(job.id) ?? 0) + 1);
        return { success: true };
      }, { concurrency: 8 }),
    );
    pulse.handlers.register("bench", ["noop"]);
    const N = 2000;
    const jobs: PulseJob[] = [];
    for (let i = 0; i < N; i += 500) jobs.push(...(await pulse.enqueueMany(Array.from({ length: 500 }, (_, k) => ({ handler: "noop", payload: { i: i + k } })))));
    let completed = 0;
    const all = new Promise<void>((resolve) => pulse.on("job", (j) => j.status === "completed" && ++completed === N && resolve()));
    await pulse.start();
    await all;
    await pulse.stop();
    expect(calls.size).toBe(N);
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(jobs.map((j) => j.id)).size).toBe(N);
    expect(await pulse.counts()).toEqual({ completed: N });
  });
});
