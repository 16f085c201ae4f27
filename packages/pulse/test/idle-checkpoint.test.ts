import { afterEach, describe, expect, it } from "@jest/globals";
import { closeSync, openSync, readSync } from "node:fs";
import { Pulse, SqliteJobStore } from "../src/index.js";
import { mode, scriptedExecutor, tempDb, testOptions, waitFor, type TempDb } from "./helpers.js";

/** The WAL header's salt (bytes 16–23): a checkpoint that emptied the WAL makes the next write restart it with a new salt. */
function walSalt(file: string): string {
  const b = Buffer.alloc(8);
  const fd = openSync(`${file}-wal`, "r");
  readSync(fd, b, 0, 8, 16);
  closeSync(fd);
  return b.toString("hex");
}

/** The WAL checkpoint Pulse runs when its pool goes idle (sqlite-checkpoint.ts). */
describe("idle checkpoint", () => {
  let t: TempDb;
  let pulse: Pulse | undefined;
  afterEach(async () => {
    await pulse?.stop(0);
    t.cleanup();
  });

  async function started(concurrency: number) {
    t = tempDb();
    const x = scriptedExecutor();
    pulse = new Pulse(testOptions(t.db, x.executor, { concurrency, pollMs: 60_000 }));
    pulse.handlers.register("p", ["h"]);
    await pulse.start();
    return { pulse, x, checkpoint: (pulse.store as SqliteJobStore).checkpoint };
  }

  async function runOneByOne(p: Pulse, n: number): Promise<void> {
    for (let i = 0; i < n; i++) await waitFor(p, (await p.enqueue({ handler: "p/h" })).id, "completed");
  }

  it("checkpoints once the queue is idle after enough writes, well before SQLite's auto-checkpoint would", async () => {
    const { pulse, checkpoint } = await started(2);
    const salt = walSalt(t.file);
    const ran = checkpoint.whenRun();
    // 60 jobs: an insert, an end and a log line each (180 rows), about 540 WAL pages: under the
    // 1 000 at which SQLite would checkpoint inside a commit.
    await runOneByOne(pulse, 60);
    await ran;
    expect(checkpoint.runs).toBeGreaterThanOrEqual(1);
    // The next write restarts the emptied WAL.
    await runOneByOne(pulse, 1);
    expect(walSalt(t.file)).not.toBe(salt);
  });

  it("never checkpoints while a job runs, and does once the last one ends", async () => {
    const { pulse, x, checkpoint } = await started(2);
    const long = await pulse.enqueue({ handler: "p/h", payload: mode("gate") });
    await x.whenCalled(long.id);
    // The other slot runs 60 jobs: the pool is never idle, however much is written.
    await runOneByOne(pulse, 60);
    expect(checkpoint.runs).toBe(0);
    const ran = checkpoint.whenRun();
    x.release(long.id);
    await waitFor(pulse, long.id, "completed");
    await ran;
    expect(checkpoint.runs).toBe(1);
  });
});
