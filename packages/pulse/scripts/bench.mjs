#!/usr/bin/env node
// Throughput of Pulse with a no-op executor: N jobs (default 50,000), concurrency C (default 16),
// on a SQLite file in WAL mode with synchronous=NORMAL (what the host uses).
// Usage: node scripts/bench.mjs [jobs] [concurrency]   (after `pnpm --filter @qntx/pulse build`)
// Measures (a) enqueue of all jobs in batches of 1,000 and (b) wall time from pool start until
// the last job is `completed`, counted from 'job' events. Not a test: numbers vary by machine.
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pulse } from "../dist/index.js";

const N = Number(process.argv[2] ?? 50_000);
const C = Number(process.argv[3] ?? 16);
const sync = process.env.SYNC ?? "NORMAL";
const dir = mkdtempSync(join(tmpdir(), "pulse-bench-"));
const db = new Database(process.env.MEM ? ":memory:" : join(dir, "qntx.db"));
db.pragma("journal_mode = WAL");
db.pragma(`synchronous = ${sync}`);
if (process.env.PRAG) for (const p of process.env.PRAG.split(",")) db.pragma(p);
if (process.env.CACHE) db.pragma(`cache_size = ${process.env.CACHE}`);

const calls = new Map();
const pulse = new Pulse({
  db,
  concurrency: C,
  executor: async (job) => {
    calls.set(job.id, (calls.get(job.id) ?? 0) + 1);
    return { success: true };
  },
});
pulse.handlers.register("bench", ["noop"]);

let t = performance.now();
for (let i = 0; i < N; i += 1000) {
  await pulse.enqueueMany(Array.from({ length: Math.min(1000, N - i) }, () => ({ handler: "bench/noop" })));
}
const enqueueMs = performance.now() - t;

let done = 0;
const finished = new Promise((resolve) => {
  pulse.on("job", (j) => {
    if (j.status === "completed" && ++done === N) resolve();
  });
});
t = performance.now();
await pulse.start();
await finished;
const runMs = performance.now() - t;
await pulse.stop();

const dup = [...calls.values()].filter((n) => n > 1).length;
console.log(
  JSON.stringify({
    jobs: N,
    concurrency: C,
    synchronous: sync,
    enqueuePerSec: Math.round(N / (enqueueMs / 1000)),
    runPerSec: Math.round(N / (runMs / 1000)),
    runMs: Math.round(runMs),
    executed: calls.size,
    duplicates: dup,
  }),
);
db.close();
rmSync(dir, { recursive: true, force: true });
