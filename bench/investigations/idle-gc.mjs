#!/usr/bin/env node
/**
 * Diagnostic for the `idle` case's GC tail (not part of `pnpm bench`): how much the host
 * allocates and how much of it survives scavenges, per Pulse job against per raw ExecuteJob call
 * through the same channel (no Pulse, no SQLite), with the same spacing. Run it under
 * `--trace-gc-nvp`; it sums V8's own per-scavenge lines (allocated, new_space_survived,
 * promoted, pause) over the measured part and prints them per operation.
 * Usage: node --trace-gc-nvp bench/investigations/idle-gc.mjs [jobs|raw] [n=600] [gapMs=5]
 */
import { randomUUID } from "node:crypto";
import { runIdleJob, startInProcessHost } from "../lib/inproc-host.mjs";

const [mode = "jobs", nArg = "600", gapArg = "5"] = process.argv.slice(2);
const n = Number(nArg);
const gapMs = Number(gapArg);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Capture V8's --trace-gc-nvp lines (written to stdout by V8, not through process.stdout).
const { host, cleanup } = await startInProcessHost("idle-gc");
const plugin = host.registry.runningPlugin("benchp");

async function one() {
  if (mode === "raw") {
    await plugin.executeJob({ jobId: randomUUID(), handlerName: "noop", payload: Buffer.alloc(0), timeoutSecs: 300 }, { deadline: Date.now() + 10_000 });
    return;
  }
  await runIdleJob(host);
}

for (let i = 0; i < 100; i++) await one();
console.log(`MARK start ${mode} ${n}`);
for (let i = 0; i < n; i++) {
  await sleep(gapMs);
  await one();
}
console.log(`MARK end ${mode} ${n}`);
await host.close();
cleanup();
