#!/usr/bin/env node
/**
 * Diagnostic (not part of `pnpm bench`): where the host's idle RSS goes.
 *
 *   imports   a fresh `node` per round imports the host's dependencies one after another, in
 *             the order `qntx server` loads them, and prints RSS / heap after each (cumulative,
 *             so a module shared by two packages is counted where it first loads). Then each
 *             module alone in a fresh process ("alone": its RSS over bare node). "live" is the
 *             heap still used after a full GC (--expose-gc in the probe only): what a module
 *             keeps, free of the young generation's growth that makes RSS steps noisy.
 *   server    `node host/dist/cli.js server` with 5 bench SDK plugins (as the `memory` case):
 *             memoryUsage() and V8 heap spaces right after node starts, once the HTTP API
 *             listens, and 3 s after all 5 plugins run (the case's figure), read inside the
 *             host by a preloaded probe on SIGUSR2, plus VmRSS from /proc.
 *
 * Usage: node bench/investigations/host-memory.mjs [imports|server|all] [--rounds N] [--repo DIR]
 *        [--node-flag FLAG]... [--gc]
 *   --repo DIR       measure another built worktree (e.g. /tmp/qntx-s5base) instead of this one
 *   --node-flag F    pass F to the host's node (e.g. --max-semi-space-size=1, --trace-gc)
 *   --log FILE       server: append the host's output (its log, --trace-gc lines) to FILE
 *   --idle S         server: also sample after S seconds idle (V8's memory reducer runs ~8 s after a full GC)
 *   --maps           server: print the host's largest mappings by RSS (from /proc/PID/smaps) at the end
 *   --gc             server: also run a full GC before the last sample (needs --expose-gc,
 *                    added for you) to show how much of the heap is garbage not yet collected
 * Medians over rounds; figures in MB (1 MB = 2^20 bytes).
 */
import { spawn } from "node:child_process";
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { BENCH_PLUGIN, hostToml } from "../lib/hosts.mjs";
import { REPO_DIR, rssOf, stopChild, tempDir, waitFor, waitForHostUrl, waitForRunningPlugins } from "../lib/procs.mjs";

const args = process.argv.slice(2);
const mode = args[0] && !args[0].startsWith("--") ? args[0] : "all";
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};
const rounds = Number(option("--rounds", 3));
const repo = resolve(option("--repo", REPO_DIR));
const nodeFlags = args.flatMap((a, i) => (a === "--node-flag" ? [args[i + 1]] : []));
const fullGc = args.includes("--gc");
const longIdleMs = Number(option("--idle", 0)) * 1000;
const showMaps = args.includes("--maps");
const keepLog = option("--log") && resolve(option("--log"));
const MB = 1024 * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => (x === undefined ? "" : x.toFixed(1));

/**
 * What `qntx server` imports, in load order: third-party packages first (as the compiled
 * cli.js's static import graph reaches them), then our packages, then the host's own modules.
 * Specifiers resolve from host/ (the probe runs with cwd = host).
 */
const IMPORTS = [
  "commander", "smol-toml", "pino", "ws", "better-sqlite3", "@grpc/grpc-js", "fastify",
  "@qntx/protocol", "@qntx/ats", "@qntx/pulse", "@qntx/sdk/qntx-runner",
  "execa", "semver", "./dist/config/index.js", "./dist/plugin/manager.js", "./dist/gateway/http-server.js", "./dist/server.js",
  "./dist/cli/server-command.js", "./dist/conformance/run.js", "./dist/scaffold/index.js", "./dist/cli/plugin-commands.js", "./dist/cli/pulse-commands.js",
  "./dist/cli/data-commands.js", "./dist/cli/plugin-dispatch.js", "./dist/cli.js#no-run",
];

/** The child side of `imports`: imports `specs` in order, printing one JSON line per step. */
const IMPORT_PROBE = `
const MB = ${MB};
const out = [];
// RSS and heap as they are, then the live heap after a full GC (what the module keeps).
const sample = (step) => { const m = process.memoryUsage(); globalThis.gc(); out.push({ step, rss: m.rss / MB, heapUsed: m.heapUsed / MB, heapTotal: m.heapTotal / MB, external: m.external / MB, live: process.memoryUsage().heapUsed / MB }); };
sample("node");
for (const spec of JSON.parse(process.env.PROBE_SPECS)) {
  if (spec.endsWith("#no-run")) continue;
  try { await import(spec); } catch (error) { out.push({ step: spec, error: String(error.message).split("\\n")[0] }); continue; }
  sample(spec);
}
console.log(JSON.stringify(out));
`;

/**
 * What `qntx server` loads at start: the modules reached from host/dist/cli.js through static
 * `import … from` (relative ones followed, bare ones collected). A dynamic `import()` is not
 * followed: that module loads only when the code using it runs.
 */
function staticallyLoaded() {
  const dist = join(repo, "host", "dist");
  const seen = new Set();
  const bare = new Set();
  const visit = (file) => {
    if (seen.has(file) || !existsSync(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, "utf8").matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"|^import\s+"([^"]+)"/gm)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith(".")) visit(resolve(dirname(file), spec));
      else if (!spec.startsWith("node:")) {
        bare.add(spec);
        const workspace = workspaceFile(spec);
        if (workspace) visit(workspace);
      }
    }
  };
  // Our own packages are followed into their dist too (better-sqlite3 comes through @qntx/ats).
  const workspaceFile = (spec) => {
    const m = /^@qntx\/([^/]+)(\/.*)?$/.exec(spec);
    if (!m) return undefined;
    const dir = m[1] === "sdk" ? join(repo, "sdk") : join(repo, "packages", m[1]);
    const exports = existsSync(join(dir, "package.json")) ? JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).exports : undefined;
    const target = exports?.[`.${m[2] ?? ""}`]?.default;
    return target && join(dir, target);
  };
  visit(join(dist, "cli.js"));
  return (spec) => (spec.startsWith("./") ? seen.has(resolve(join(repo, "host"), spec)) : bare.has(spec));
}

function runProbe(specs) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", "--input-type=module", "-e", IMPORT_PROBE], {
      cwd: join(repo, "host"), env: { ...process.env, PROBE_SPECS: JSON.stringify(specs) }, stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.on("exit", (code) => (code === 0 ? resolveRun(JSON.parse(stdout.trim().split("\n").pop())) : reject(new Error(`import probe exited ${code}`))));
  });
}

async function importsTable() {
  const specs = IMPORTS.filter((s) => !s.endsWith("#no-run"));
  const cumulative = [];
  for (let r = 0; r < rounds; r++) cumulative.push(await runProbe(specs));
  const alone = new Map();
  for (const spec of specs) {
    const runs = [];
    for (let r = 0; r < rounds; r++) runs.push(await runProbe([spec]));
    alone.set(spec, median(runs.map((run) => (run[1]?.rss ?? NaN) - run[0].rss)));
  }
  const loaded = staticallyLoaded();
  console.log(`\nimports (${repo}), median of ${rounds} fresh processes, MB; "server": loaded when \`qntx server\` starts (static imports from dist/cli.js) or not`);
  console.log(`${"step".padEnd(32)} ${"rss".padStart(6)} ${"+rss".padStart(6)} ${"heapUsed".padStart(8)} ${"heapTotal".padStart(9)} ${"external".padStart(8)} ${"live".padStart(6)} ${"+live".padStart(6)} ${"alone".padStart(6)}  server`);
  let previous = 0;
  let previousLive = 0;
  for (let i = 0; i < cumulative[0].length; i++) {
    const step = cumulative[0][i].step;
    if (cumulative[0][i].error) {
      console.log(`${step.padEnd(32)} (failed: ${cumulative[0][i].error})`);
      continue;
    }
    const at = (key) => median(cumulative.map((run) => run.find((s) => s.step === step)?.[key] ?? NaN));
    const rss = at("rss");
    const live = at("live");
    console.log(`${step.padEnd(32)} ${fmt(rss).padStart(6)} ${fmt(i ? rss - previous : 0).padStart(6)} ${fmt(at("heapUsed")).padStart(8)} ${fmt(at("heapTotal")).padStart(9)} ${fmt(at("external")).padStart(8)} ${fmt(live).padStart(6)} ${fmt(i ? live - previousLive : 0).padStart(6)} ${fmt(alone.get(step)).padStart(6)}  ${i === 0 ? "" : loaded(step) ? "at start" : "not at start"}`);
    previous = rss;
    previousLive = live;
  }
}

/** Preloaded into the host: on SIGUSR2 appends memoryUsage() and V8 heap spaces to $PROBE_OUT. */
const SERVER_PROBE = `
import { appendFileSync } from "node:fs";
import v8 from "node:v8";
const sample = (label) => {
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]));
  appendFileSync(process.env.PROBE_OUT, JSON.stringify({ label, ...m, spaces }) + "\\n");
};
sample("node started");
process.on("SIGUSR2", () => {
  if (process.env.PROBE_GC && globalThis.gc) { sample("before full gc"); globalThis.gc(); }
  sample("signal");
});
`;

/** RSS split by kind (anonymous: heaps, malloc, stacks; file: node's binary and shared libraries mapped in), MB. */
function rssKinds(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
  return { rssAnon: kb("RssAnon"), rssFile: kb("RssFile") };
}

/** The mappings of `pid` with the most resident memory, grouped by file ([anon] for anonymous). */
function printMappings(pid) {
  const byName = new Map();
  let name = "";
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) name = head[1] || "[anon]";
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) byName.set(name, (byName.get(name) ?? 0) + Number(rss[1]) / 1024);
  }
  console.log("largest mappings by RSS (MB):");
  for (const [file, mb] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${fmt(mb).padStart(6)}  ${file}`);
}

function readSamples(file, count) {
  return waitFor(async () => {
    const lines = existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : [];
    return lines.length >= count && lines.map((l) => JSON.parse(l));
  }, 5000, `${count} probe samples`);
}

async function serverRound() {
  const { dir, cleanup } = tempDir("host-memory");
  const config = join(dir, "am.plugins.toml");
  const names = ["p01", "p02", "p03", "p04", "p05"];
  writeFileSync(config, hostToml(dir, names.map((name) => ({ name, binary: BENCH_PLUGIN, env: { BENCH_PLUGIN_NAME: name } }))));
  const probe = join(dir, "probe.mjs");
  writeFileSync(probe, SERVER_PROBE);
  const out = join(dir, "probe.jsonl");
  const fd = openSync(join(dir, "host.log"), "a");
  const flags = [...nodeFlags, ...(fullGc ? ["--expose-gc"] : []), "--import", pathToFileURL(probe).href];
  const child = spawn(process.execPath, [...flags, join(repo, "host", "dist", "cli.js"), "--config", config, "server"], {
    stdio: ["ignore", fd, fd], cwd: dir, env: { ...process.env, PROBE_OUT: out, ...(fullGc ? { PROBE_GC: "1" } : {}) },
  });
  closeSync(fd);
  const rows = [];
  const kinds = new Map();
  const take = async (label) => {
    const vmRss = rssOf(child.pid) / MB;
    kinds.set(label, rssKinds(child.pid));
    const before = existsSync(out) ? readFileSync(out, "utf8").trim().split("\n").length : 0;
    child.kill("SIGUSR2");
    const samples = await readSamples(out, before + (fullGc ? 2 : 1));
    for (const s of samples.slice(before)) rows.push({ ...s, label: s.label === "signal" ? label : `${label}, ${s.label}`, vmRss: s.label === "signal" ? undefined : vmRss });
  };
  try {
    rows.push(...(await readSamples(out, 1)));
    const url = await waitForHostUrl(dir);
    await take("HTTP API listening");
    await waitForRunningPlugins(url, 5);
    await take("5 plugins running");
    await sleep(3000);
    const caseRss = rssOf(child.pid) / MB;
    if (showMaps) printMappings(child.pid);
    await take("5 plugins + 3 s idle");
    rows.at(-1).vmRss = caseRss;
    if (fullGc) rows.at(-2).vmRss = caseRss;
    if (longIdleMs) {
      await sleep(longIdleMs - 3000);
      const late = rssOf(child.pid) / MB;
      await take(`5 plugins + ${longIdleMs / 1000} s idle`);
      rows.at(-1).vmRss = late;
    }
    for (const row of rows) Object.assign(row, kinds.get(row.label) ?? {});
    return rows;
  } catch (error) {
    throw new Error(`${error.message}\n${readFileSync(join(dir, "host.log"), "utf8").slice(-2000)}`);
  } finally {
    await stopChild(child, 8000);
    if (keepLog) appendFileSync(keepLog, readFileSync(join(dir, "host.log")));
    cleanup();
  }
}

async function serverTable() {
  const runs = [];
  for (let r = 0; r < rounds; r++) runs.push(await serverRound());
  const labels = runs[0].map((row) => row.label);
  const at = (label, pick) => median(runs.map((run) => pick(run.find((row) => row.label === label) ?? {}) ?? NaN));
  console.log(`\nserver (${repo}${nodeFlags.length ? `, node ${nodeFlags.join(" ")}` : ""}), 5 bench SDK plugins, median of ${rounds} rounds, MB`);
  const spaceNames = ["new_space", "old_space", "code_space", "large_object_space", "map_space"].filter((n) => runs[0].at(-1).spaces[n]);
  console.log(`${"phase".padEnd(36)} ${"VmRSS".padStart(6)} ${"rss".padStart(6)} ${"heapUsed".padStart(8)} ${"heapTotal".padStart(9)} ${"external".padStart(8)} ${"arrayBuf".padStart(8)} ${"anon".padStart(6)} ${"file".padStart(6)}  ${spaceNames.map((n) => `${n.replace("_space", "")} size/used`).join("  ")}`);
  for (const label of labels) {
    const spaces = spaceNames.map((n) => `${fmt(at(label, (row) => row.spaces?.[n]?.size / MB))}/${fmt(at(label, (row) => row.spaces?.[n]?.used / MB))}`.padStart(n.length + 5));
    console.log(`${label.padEnd(36)} ${fmt(at(label, (row) => row.vmRss)).padStart(6)} ${fmt(at(label, (row) => row.rss / MB)).padStart(6)} ${fmt(at(label, (row) => row.heapUsed / MB)).padStart(8)} ${fmt(at(label, (row) => row.heapTotal / MB)).padStart(9)} ${fmt(at(label, (row) => row.external / MB)).padStart(8)} ${fmt(at(label, (row) => row.arrayBuffers / MB)).padStart(8)} ${fmt(at(label, (row) => row.rssAnon)).padStart(6)} ${fmt(at(label, (row) => row.rssFile)).padStart(6)}  ${spaces.join("  ")}`);
  }
  const idle = runs.map((run) => run.find((row) => row.label === "5 plugins + 3 s idle").vmRss);
  console.log(`host VmRSS at the memory case's moment: median ${fmt(median(idle))} MB (min ${fmt(Math.min(...idle))}, max ${fmt(Math.max(...idle))}, ${rounds} rounds)`);
}

if (mode === "imports" || mode === "all") await importsTable();
if (mode === "server" || mode === "all") await serverTable();
