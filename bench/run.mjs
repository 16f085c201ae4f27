#!/usr/bin/env node
/**
 * The qntx benchmark suite (not tests: nothing here asserts a timing).
 *
 *   pnpm bench                 # build, then every case
 *   pnpm bench proxy           # cases named "proxy" or "proxy-…"
 *   node bench/run.mjs --list  # case names
 *   node bench/run.mjs jobs --rounds 5 --seconds 8
 *
 * Every case runs its baseline and ours in the same run, alternating, for several rounds,
 * each side in its own process, with load generated from yet another process. It prints one
 * row per metric: median (min–max) of ours and of the baseline, the ratio ours/baseline, the
 * target and PASS/MISS, then writes bench/results/latest.{json,md}. BENCHMARKS.md at the
 * repository root records reviewed runs; bench/notes the findings behind them.
 *
 * @typedef {{ metric: string, unit: string, ours: number[], baseline?: number[], better: "higher"|"lower",
 *   target: string, pass?: (ours: number, baseline: number) => boolean, note?: string }} Row
 * @typedef {{ name: string, title: string, baseline?: string,
 *   run(ctx: { rounds: number, seconds: number, log: (line: string) => void }): Promise<Row[]> }} Case
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { execSync } from "node:child_process";
import { BENCH_DIR } from "./lib/procs.mjs";
import { fmt, summary } from "./lib/stats.mjs";
import { proxy1, proxy64, proxyGo } from "./cases/proxy.mjs";
import { ws, ws4k } from "./cases/ws.mjs";
import { jobs, jobsC4, jobsPayload, idle } from "./cases/jobs.mjs";
import { ats, query } from "./cases/ats.mjs";
import { cold, start20, memory } from "./cases/lifecycle.mjs";
import { chat } from "./cases/chat.mjs";
import { metrics } from "./cases/metrics.mjs";

/** @type {Case[]} In the order `pnpm bench` runs them (each variant right after its case). */
const CASES = [proxy64, proxy1, proxyGo, metrics, ws, ws4k, jobs, jobsC4, jobsPayload, idle, ats, query, cold, start20, memory, chat];

function parseArgs(argv) {
  const opts = { names: [], rounds: undefined, seconds: undefined, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--rounds") opts.rounds = Number(argv[++i]);
    else if (a === "--seconds") opts.seconds = Number(argv[++i]);
    else if (a === "--list") opts.list = true;
    else if (a === "--help" || a === "-h") opts.help = true;
    else if (a === "--") continue;
    else opts.names.push(a);
  }
  return opts;
}

function machine() {
  const cpuModel = cpus()[0]?.model ?? "unknown";
  let nproc = String(cpus().length);
  try {
    nproc = execSync("nproc", { encoding: "utf8" }).trim();
  } catch {}
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpuModel,
    nproc,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB total, ${(freemem() / 2 ** 30).toFixed(1)} GiB free`,
    loadavg: loadavg().map((l) => l.toFixed(2)).join(" "),
  };
}

function evaluate(row) {
  const ours = summary(row.ours);
  const baseline = row.baseline ? summary(row.baseline) : undefined;
  const ratio = baseline ? ours.median / baseline.median : undefined;
  const verdict = row.pass ? (row.pass(ours.median, baseline?.median) ? "PASS" : "MISS") : "info";
  return { metric: row.metric, unit: row.unit, ours, baseline, ratio, target: row.target, verdict, note: row.note };
}

const range = (s) => (s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : "—");

function tableLines(results) {
  const header = ["case", "metric", "ours median (min–max)", "baseline median (min–max)", "ours/baseline", "target", "result"];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const r of results) {
    if (r.error) {
      lines.push(`| ${r.case} | — | — | — | — | — | ERROR: ${r.error.split("\n")[0].slice(0, 160)} |`);
      continue;
    }
    lines.push(
      `| ${r.case} | ${r.metric} (${r.unit})${r.note ? ` ¹` : ""} | ${range(r.ours)} | ${range(r.baseline)} | ${r.ratio === undefined ? "—" : r.ratio.toFixed(2)} | ${r.target} | ${r.verdict} |`,
    );
  }
  return lines;
}

const opts = parseArgs(process.argv.slice(2));
if (opts.help || opts.list) {
  for (const c of CASES) console.log(`${c.name.padEnd(10)} ${c.title}${c.baseline ? `\n${" ".repeat(11)}baseline: ${c.baseline}` : ""}`);
  if (opts.help) console.log("\nusage: node bench/run.mjs [case…] [--rounds N] [--seconds S] [--list]  (a name also selects <name>-*)");
  process.exit(0);
}
const selected = opts.names.length === 0 ? CASES : CASES.filter((c) => opts.names.some((n) => c.name === n || c.name.startsWith(`${n}-`)));
if (selected.length === 0) {
  console.error(`no case matches ${opts.names.join(", ")}; cases: ${CASES.map((c) => c.name).join(", ")}`);
  process.exit(2);
}

const info = machine();
console.log(`qntx bench — ${info.date}\nnode ${info.node}, ${info.nproc} × ${info.cpu}, ${info.memory}, load average ${info.loadavg}`);
console.log(`command: node bench/run.mjs ${process.argv.slice(2).join(" ")}`.trimEnd());
const results = [];
const t0 = performance.now();
for (const c of selected) {
  console.log(`\n▶ ${c.name}: ${c.title}${c.baseline ? `\n  baseline: ${c.baseline}` : ""}`);
  const started = performance.now();
  try {
    const rows = await c.run({ rounds: opts.rounds, seconds: opts.seconds, log: (line) => console.log(line) });
    const evaluated = rows.map((row) => ({ case: c.name, ...evaluate(row) }));
    results.push(...evaluated);
    for (const line of tableLines(evaluated).slice(2)) console.log(line);
  } catch (error) {
    console.log(`  ERROR: ${error.stack ?? error}`);
    results.push({ case: c.name, error: String(error.message ?? error) });
  }
  console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
const totalS = (performance.now() - t0) / 1000;
const endLoad = loadavg().map((l) => l.toFixed(2)).join(" ");
const table = tableLines(results);
console.log(`\nSummary (${totalS.toFixed(0)} s; load average at start ${info.loadavg}, at end ${endLoad})\n`);
console.log(table.join("\n"));
const notes = [...new Set(results.filter((r) => r.note).map((r) => `${r.case} ${r.metric}: ${r.note}`))];
if (notes.length) console.log(`\n¹ ${notes.join("; ")}`);

const outDir = join(BENCH_DIR, "results");
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "latest.json"), JSON.stringify({ machine: { ...info, loadavgEnd: endLoad }, command: process.argv.slice(2), totalSeconds: totalS, results }, null, 2) + "\n");
writeFileSync(
  join(outDir, "latest.md"),
  [
    `Run of ${info.date}: \`node bench/run.mjs ${process.argv.slice(2).join(" ")}\` in ${totalS.toFixed(0)} s`,
    `Machine: ${info.nproc} × ${info.cpu}, ${info.memory}, node ${info.node}; load average ${info.loadavg} at start, ${endLoad} at end`,
    "",
    ...table,
    ...(notes.length ? ["", `¹ ${notes.join("; ")}`] : []),
    "",
  ].join("\n"),
);
console.log(`\nwritten: bench/results/latest.json, bench/results/latest.md`);
process.exit(results.some((r) => r.error) ? 1 : 0);
