#!/usr/bin/env node
/**
 * Diagnostic for the `idle` case's GC tail (not part of `pnpm bench`): who allocates in the host
 * per job, and what of it lives long enough to be copied by a scavenge? Starts a host in this
 * process with the bench SDK plugin (as idle-trace.mjs does), runs jobs one at a time with a gap,
 * under V8's sampling heap profiler (every sampled allocation, also those a scavenge or a
 * major GC collected), and prints the allocation sites by bytes per job, and the share of
 * Pulse and the host's job code. (Sampling without the objects collected by scavenges does not
 * show what survives scavenges: the profiler's own weak handles keep some sampled objects
 * alive; a script of only short-lived objects still showed a third of them. See idle-gc.mjs.)
 * Usage: node bench/investigations/idle-alloc.mjs [n=300] [gapMs=20] [top=30]
 */
import { Session } from "node:inspector/promises";
import { runIdleJobs, startInProcessHost } from "../lib/inproc-host.mjs";

const [nArg = "300", gapArg = "20", topArg = "30"] = process.argv.slice(2);
const n = Number(nArg);
const gapMs = Number(gapArg);

const { host, cleanup } = await startInProcessHost("idle-alloc");

await runIdleJobs(host, 50, gapMs);
const session = new Session();
session.connect();
await session.post("HeapProfiler.enable");
await session.post("HeapProfiler.startSampling", {
  samplingInterval: 1024,
  includeObjectsCollectedByMinorGC: true,
  includeObjectsCollectedByMajorGC: true,
});
await runIdleJobs(host, n, gapMs);
const { profile } = await session.post("HeapProfiler.stopSampling");
session.disconnect();
await host.close();
cleanup();

// Self bytes per site (function url:line), and per site with its two callers for context;
// and the bytes allocated by frames of Pulse or the host's jobs code themselves.
const sites = new Map();
let total = 0;
let ours = 0;
const OURS = /packages\/pulse\/|host\/dist\/jobs\//;
const walk = (node, stack) => {
  const f = node.callFrame;
  const here = `${f.functionName || "(anon)"} ${f.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/\/work\/[^/]+\//, "")}:${f.lineNumber + 1}`;
  const self = node.selfSize;
  if (self > 0) {
    const key = [here, ...stack.slice(-2).reverse()].join(" ← ");
    sites.set(key, (sites.get(key) ?? 0) + self);
    total += self;
    if (OURS.test(here)) ours += self;
  }
  for (const c of node.children) walk(c, [...stack, here]);
};
walk(profile.head, []);
console.log(`sampled ${(total / n / 1024).toFixed(1)} KB per job over ${n} jobs (${gapMs} ms apart); allocated by Pulse or host/dist/jobs frames themselves: ${(ours / n / 1024).toFixed(1)} KB (${((100 * ours) / total).toFixed(0)} %)`);
for (const [key, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) {
  console.log(`  ${(bytes / n).toFixed(0).padStart(7)} B  ${((100 * bytes) / total).toFixed(1).padStart(5)} %  ${key}`);
}
