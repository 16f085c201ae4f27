#!/usr/bin/env node
/**
 * A/B of one bench case between two checkouts (not part of `pnpm bench`): runs
 * `node <tree>/bench/run.mjs <case> --rounds 1` alternately in tree A and tree B (A B, B A,
 * A B …), reads each run's `bench/results/latest.json`, and prints per metric the median
 * (min–max) of ours in A and in B, the ratio B/A, and the medians of each tree's own
 * baseline and ours/baseline ratio. On a machine shared with other work this is how a change
 * is judged: both sides see the same load, in turns.
 *
 * Typical use: a `git worktree` of the previous commit in /tmp, built, as A.
 *   node bench/tools/ab.mjs /tmp/qntx-before /work/main jobs --pairs 4
 * Options: --pairs N (default 3), --args "..." (extra args for run.mjs, e.g. --seconds 3).
 * Env (e.g. BENCH_JOBS) passes through to both sides.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fmt, summary } from "../lib/stats.mjs";

const argv = process.argv.slice(2);
const positional = [];
let pairs = 3;
let extra = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--pairs") pairs = Number(argv[++i]);
  else if (argv[i] === "--args") extra = argv[++i].split(/\s+/).filter(Boolean);
  else positional.push(argv[i]);
}
const [treeA, treeB, caseName] = positional;
if (!treeA || !treeB || !caseName) {
  console.error("usage: node bench/tools/ab.mjs <treeA> <treeB> <case> [--pairs N] [--args \"--seconds 3\"]");
  process.exit(2);
}

/** One run of the case in `tree`: its result rows keyed by metric. */
function runOnce(tree) {
  const r = spawnSync(process.execPath, [join(tree, "bench", "run.mjs"), caseName, "--rounds", "1", ...extra], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) throw new Error(`${tree}: run.mjs exited ${r.status}\n${r.stdout}`);
  const rounds = r.stdout.split("\n").filter((l) => l.includes("round ")).map((l) => l.trim());
  const json = JSON.parse(readFileSync(join(tree, "bench", "results", "latest.json"), "utf8"));
  return { rounds, rows: json.results };
}

const trees = { A: resolve(treeA), B: resolve(treeB) };
const samples = { A: [], B: [] };
const load0 = loadavg().map((l) => l.toFixed(2)).join(" ");
console.log(`A = ${trees.A}\nB = ${trees.B}\ncase ${caseName}, ${pairs} pairs, load average ${load0}`);
for (let p = 0; p < pairs; p++) {
  for (const side of p % 2 === 0 ? ["A", "B"] : ["B", "A"]) {
    const out = runOnce(trees[side]);
    samples[side].push(out.rows);
    console.log(`pair ${p + 1} ${side}: ${out.rounds.join(" | ")}`);
  }
}

// A group name ("ws") also runs the cases it prefixes ("ws-4k"): rows are matched by case and
// metric, so two cases with a metric of the same name are never mixed up.
const keyOf = (r) => `${r.case} ${r.metric}`;
const keys = samples.A[0].filter((r) => r.metric).map(keyOf);
console.log(`\n| case metric | A ours | B ours | B/A | A baseline | B baseline | A ours/base | B ours/base |`);
console.log(`|---|---|---|---|---|---|---|---|`);
for (const m of keys) {
  const col = (side, key) => summary(samples[side].map((rows) => rows.find((r) => keyOf(r) === m)?.[key]?.median ?? NaN));
  const ratio = (side) => summary(samples[side].map((rows) => rows.find((r) => keyOf(r) === m)?.ratio ?? NaN));
  const a = col("A", "ours");
  const b = col("B", "ours");
  const show = (s) => (s.n ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : "—");
  console.log(`| ${m} | ${show(a)} | ${show(b)} | ${(b.median / a.median).toFixed(2)} | ${show(col("A", "baseline"))} | ${show(col("B", "baseline"))} | ${show(ratio("A"))} | ${show(ratio("B"))} |`);
}
console.log(`\nload average ${load0} at start, ${loadavg().map((l) => l.toFixed(2)).join(" ")} at end`);
