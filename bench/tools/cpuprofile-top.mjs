#!/usr/bin/env node
/**
 * Summarises a .cpuprofile (node --cpu-prof, or BENCH_PROFILE=<dir> with the bench): the
 * functions with the most self time, and self time grouped by package/file.
 * Usage: node bench/tools/cpuprofile-top.mjs <file.cpuprofile> [top=25]
 */
import { readFileSync } from "node:fs";

const [file, topArg = "25"] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const dt = new Map();
// Self time per node from samples and time deltas.
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...dt.values()].reduce((a, b) => a + b, 0);
const where = (cf) => {
  const url = cf.url || "(native)";
  const m = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  const w = /\/work\/main\/(.*)$/.exec(url);
  return w ? w[1] : url.replace(/^file:\/\//, "");
};
const fns = new Map();
const files = new Map();
for (const [id, us] of dt) {
  const cf = byId.get(id).callFrame;
  const key = `${cf.functionName || "(anonymous)"}  ${where(cf)}:${cf.lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
  const f = where(cf);
  files.set(f, (files.get(f) ?? 0) + us);
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
console.log("\nself time by function:");
for (const [k, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) console.log(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
console.log("\nself time by package / file:");
for (const [k, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) console.log(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);

// --callers <name>: self time of functions named <name>, by calling stack (3 frames up).
const at = process.argv.indexOf("--callers");
if (at !== -1) {
  const name = process.argv[at + 1];
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stacks = new Map();
  for (const [id, us] of dt) {
    const cf = byId.get(id).callFrame;
    if (cf.functionName !== name) continue;
    const chain = [];
    let p = parent.get(id);
    for (let k = 0; k < 4 && p !== undefined; k++, p = parent.get(p)) {
      const f = byId.get(p).callFrame;
      chain.push(`${f.functionName || "(anon)"}@${where(f)}:${f.lineNumber + 1}`);
    }
    const key = chain.join(" ← ");
    stacks.set(key, (stacks.get(key) ?? 0) + us);
  }
  console.log(`\ncallers of ${name}:`);
  for (const [k, us] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`${pct(us)}  ${k}`);
}
