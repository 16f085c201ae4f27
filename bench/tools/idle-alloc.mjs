#!/usr/bin/env node
/**
 * Diagnostic for the `idle` case's GC tail (not part of `pnpm bench`): who allocates in the host
 * per job, and what of it lives long enough to be copied by a scavenge? Starts a host in this
 * process with the bench SDK plugin (as idle-trace.mjs does), runs jobs one at a time with a gap,
 * under V8's sampling heap profiler, and prints the allocation sites by bytes per job.
 *   mode "all": every sampled allocation (includeObjectsCollectedByMinorGC and ByMajorGC);
 *   mode "survivors": only objects that outlived a scavenge (collected by a major GC, or still
 *   alive at the end): the ones each scavenge copies and promotes, which set its pause.
 * Usage: node bench/tools/idle-alloc.mjs [mode=all|survivors] [n=300] [gapMs=20] [top=30]
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { createLogger, loadConfig, startHost } from "@qntx/host";
import { hostToml, BENCH_PLUGIN } from "../lib/hosts.mjs";
import { tempDir } from "../lib/procs.mjs";

const [mode = "all", nArg = "300", gapArg = "20", topArg = "30"] = process.argv.slice(2);
const n = Number(nArg);
const gapMs = Number(gapArg);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const { dir, cleanup } = tempDir("idle-alloc");
const configPath = join(dir, "am.plugins.toml");
writeFileSync(configPath, hostToml(dir, [{ name: "benchp", binary: BENCH_PLUGIN }]));
process.env.QNTX_LOG_LEVEL = "warn";
const host = await startHost(loadConfig({ configPath, cwd: dir }), createLogger({ pretty: false }));
await host.ready;

async function runJobs(count) {
  for (let i = 0; i < count; i++) {
    await sleep(gapMs);
    const id = randomUUID();
    const done = new Promise((resolve) => {
      const onJob = (job) => {
        if (job.id !== id || (job.status !== "completed" && job.status !== "failed")) return;
        host.pulse.off("job", onJob);
        resolve(job);
      };
      host.pulse.on("job", onJob);
    });
    await host.pulse.enqueue({ handler: "benchp/noop", id });
    const job = await done;
    if (job.status !== "completed") throw new Error(`job ${id} ${job.status}: ${job.error}`);
  }
}

await runJobs(50);
const session = new Session();
session.connect();
await session.post("HeapProfiler.enable");
await session.post("HeapProfiler.startSampling", {
  samplingInterval: 1024,
  includeObjectsCollectedByMinorGC: mode === "all",
  includeObjectsCollectedByMajorGC: true,
});
await runJobs(n);
const { profile } = await session.post("HeapProfiler.stopSampling");
session.disconnect();
await host.close();
cleanup();

// Self bytes per site (function url:line), and per site with its two callers for context.
const sites = new Map();
let total = 0;
const walk = (node, stack) => {
  const f = node.callFrame;
  const here = `${f.functionName || "(anon)"} ${f.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/\/work\/[^/]+\//, "")}:${f.lineNumber + 1}`;
  const self = node.selfSize;
  if (self > 0) {
    const key = [here, ...stack.slice(-2).reverse()].join(" ← ");
    sites.set(key, (sites.get(key) ?? 0) + self);
    total += self;
  }
  for (const c of node.children) walk(c, [...stack, here]);
};
walk(profile.head, []);
console.log(`mode ${mode}: sampled ${(total / n / 1024).toFixed(1)} KB per job over ${n} jobs (${gapMs} ms apart)`);
for (const [key, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) {
  console.log(`  ${(bytes / n).toFixed(0).padStart(7)} B  ${((100 * bytes) / total).toFixed(1).padStart(5)} %  ${key}`);
}
