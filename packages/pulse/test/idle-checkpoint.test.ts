import { afterEach, describe, expect, it } from "@jest/globals";
import { closeSync, openSync, readSync } from "node:fs";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { Pulse, SqliteJobStore } from "../src/index.js";
import { IdleCheckpoint } from "../src/sqlite-checkpoint.js";
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

  it("restarts the WAL right after its checkpoint while the pool is still idle", async () => {
    const { pulse, checkpoint } = await started(2);
    // A batch keeps the pool busy until its last job ends: then it is idle, with nothing
    // written after its checkpoint, and the restart follows.
    const tried = checkpoint.whenRestartTried();
    const jobs = await pulse.enqueueMany(Array.from({ length: 60 }, () => ({ handler: "p/h" })));
    for (const j of jobs) await waitFor(pulse, j.id, "completed");
    expect(await tried).toBe(true);
    expect(checkpoint.restarts).toBe(1);
    const salt = walSalt(t.file);
    // The next job's writes append to the restarted WAL: same header.
    await runOneByOne(pulse, 1);
    expect(walSalt(t.file)).toBe(salt);
  });
});

/** IdleCheckpoint on its own, on a real WAL file, driven by hand. */
describe("idle checkpoint: WAL restart", () => {
  let t: TempDb;
  afterEach(() => t.cleanup());

  function withRows(n: number) {
    t = tempDb();
    t.db.exec("CREATE TABLE r (x INTEGER)");
    const insert = t.db.prepare("INSERT INTO r (x) VALUES (?)");
    for (let i = 0; i < n; i++) insert.run(i);
    return (x: number) => insert.run(x);
  }

  it("takes the restart (new WAL header) off the next write and changes nothing else", async () => {
    const insert = withRows(20);
    t.db.pragma("user_version = 7");
    const cp = new IdleCheckpoint(t.db, 1, 0);
    const before = walSalt(t.file);
    const changes = t.db.prepare("SELECT total_changes()").pluck().get();
    const tried = cp.whenRestartTried();
    cp.idle();
    expect(await tried).toBe(true);
    expect(cp.runs).toBe(1);
    expect(cp.restarts).toBe(1);
    const restartedSalt = walSalt(t.file);
    expect(restartedSalt).not.toBe(before);
    expect(t.db.pragma("user_version", { simple: true })).toBe(7);
    expect(t.db.prepare("SELECT total_changes()").pluck().get()).toBe(changes);
    expect(t.db.prepare("SELECT count(*) FROM r").pluck().get()).toBe(20);
    // The next write appends to the restarted WAL: same header.
    insert(99);
    expect(walSalt(t.file)).toBe(restartedSalt);
    // And another connection reads everything.
    expect(t.open().prepare("SELECT count(*) FROM r").pluck().get()).toBe(21);
  });

  it("skips the restart when a write came between the checkpoint and it", async () => {
    const insert = withRows(20);
    const cp = new IdleCheckpoint(t.db, 1, 0);
    const before = walSalt(t.file);
    const tried = cp.whenRestartTried();
    // Runs right after the checkpoint, before the restart's turn of the event loop.
    const wrote = cp.whenRun().then(() => insert(99));
    cp.idle();
    await wrote;
    expect(await tried).toBe(false);
    expect(cp.restarts).toBe(0);
    // That write restarted the WAL itself.
    expect(walSalt(t.file)).not.toBe(before);
    expect(t.db.prepare("SELECT count(*) FROM r").pluck().get()).toBe(21);
  });

  it("does not try a restart after a checkpoint a reader held back, and does after a full one", async () => {
    const insert = withRows(5);
    const reader = t.open();
    reader.exec("BEGIN");
    expect(reader.prepare("SELECT count(*) FROM r").pluck().get()).toBe(5);
    // Frames after the reader's snapshot cannot be copied while it reads.
    for (let i = 0; i < 10; i++) insert(100 + i);
    const cp = new IdleCheckpoint(t.db, 1, 0);
    const tried = cp.whenRestartTried();
    const first = cp.whenRun();
    cp.idle();
    await first;
    reader.exec("COMMIT");
    // Had the partial checkpoint scheduled a restart, this write would make it skip (false).
    insert(200);
    cp.idle();
    expect(await tried).toBe(true);
    expect(cp.runs).toBe(2);
    expect(cp.restarts).toBe(1);
  });

  it("skips the restart at once, without waiting for the write lock another connection holds", async () => {
    withRows(20);
    t.db.pragma("busy_timeout = 600000");
    // Another connection, on another thread, takes the write lock and gives it back after a
    // while on its own. A restart that waited for the lock (the connection's busy timeout) would
    // get it then and succeed; the one that gives up at once is skipped.
    const holder = new Worker(
      `const { parentPort, workerData } = require("node:worker_threads");
       const Database = require(workerData.sqlite);
       const db = new Database(workerData.file);
       db.exec("BEGIN IMMEDIATE");
       parentPort.postMessage("locked");
       setTimeout(() => { db.exec("ROLLBACK"); db.close(); parentPort.postMessage("released"); }, 1500);`,
      { eval: true, workerData: { sqlite: createRequire(import.meta.url).resolve("better-sqlite3"), file: t.file } },
    );
    const message = (what: string) => new Promise<void>((resolve) => holder.on("message", (m) => m === what && resolve()));
    const released = message("released");
    await message("locked");
    const cp = new IdleCheckpoint(t.db, 1, 0);
    const tried = cp.whenRestartTried();
    cp.idle();
    expect(await tried).toBe(false);
    expect(cp.restarts).toBe(0);
    expect(t.db.pragma("busy_timeout", { simple: true })).toBe(600000);
    await released;
    await holder.terminate();
    // The next write restarts the WAL itself, as before.
    t.db.prepare("INSERT INTO r (x) VALUES (1)").run();
    expect(t.db.prepare("SELECT count(*) FROM r").pluck().get()).toBe(21);
  });
});
