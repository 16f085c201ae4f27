#!/usr/bin/env node
/**
 * Diagnostic for the `idle` case's GC tail (not part of `pnpm bench`): what does the host keep
 * per job? Starts a host in this process with the bench SDK plugin (as idle-trace.mjs does), runs
 * `warm` jobs one at a time, takes a heap snapshot after a full GC, runs `n` more, takes another,
 * and prints the object groups (constructor or type name) whose count or size grew, per job.
 * Anything that grows by about one (or a few) per job is kept by someone: it survives scavenges,
 * is copied and promoted, and makes each scavenge longer
 * (bench/notes/07-claim-and-enqueue-transactions.md: 11–16 ms scavenges on an idle host that
 * should keep almost nothing).
 * Usage: node --expose-gc bench/investigations/idle-heap.mjs [n=500] [gapMs=2] [warm=200]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { runIdleJobs, startInProcessHost } from "../lib/inproc-host.mjs";

if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");
const [nArg = "500", gapArg = "2", warmArg = "200"] = process.argv.slice(2);
const n = Number(nArg);
const gapMs = Number(gapArg);
const warm = Number(warmArg);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const { host, dir, cleanup } = await startInProcessHost("idle-heap");

/** Count and self size per "type:name" of a heap snapshot file. */
function groups(file) {
  const snap = JSON.parse(readFileSync(file, "utf8"));
  const { node_fields: fields, node_types: [types] } = snap.snapshot.meta;
  const [T, N, S] = ["type", "name", "self_size"].map((f) => fields.indexOf(f));
  const out = new Map();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + T]];
    let name = snap.strings[snap.nodes[i + N]];
    // Strings are grouped by their first characters: the content says who made them.
    if (type === "string" || type === "concatenated string" || type === "sliced string") name = name.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "<uuid>").replace(/[0-9]{6,}/g, "<n>");
    const key = `${type}:${name.slice(0, 60)}`;
    const g = out.get(key) ?? { count: 0, size: 0 };
    g.count++;
    g.size += snap.nodes[i + S];
    out.set(key, g);
  }
  return out;
}

async function snapshot(label) {
  for (let i = 0; i < 3; i++) globalThis.gc();
  await sleep(50);
  globalThis.gc();
  const used = process.memoryUsage().heapUsed;
  // Read only after both are written, so the first one's analysis is not in the second.
  return { used, file: writeHeapSnapshot(join(dir, `${label}.heapsnapshot`)) };
}

await runIdleJobs(host, warm, gapMs);
const a = await snapshot("a");
await runIdleJobs(host, n, gapMs);
const b = await snapshot("b");
await host.close();
a.groups = groups(a.file);
b.groups = groups(b.file);
cleanup();

console.log(`heap used after full GC: ${(a.used / 1e6).toFixed(2)} → ${(b.used / 1e6).toFixed(2)} MB over ${n} jobs (${((b.used - a.used) / n).toFixed(0)} B per job)`);
const rows = [];
for (const [key, g] of b.groups) {
  const before = a.groups.get(key) ?? { count: 0, size: 0 };
  const dc = g.count - before.count;
  const ds = g.size - before.size;
  if (dc >= n / 10 || ds >= n * 20) rows.push({ key, dc, ds });
}
rows.sort((x, y) => y.ds - x.ds);
console.log("grown (count per job, bytes per job, group):");
for (const r of rows.slice(0, 40)) console.log(`  ${(r.dc / n).toFixed(2).padStart(7)} ${(r.ds / n).toFixed(0).padStart(7)} B  ${r.key}`);
