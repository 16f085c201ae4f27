#!/usr/bin/env node
/**
 * Diagnostic (not part of `pnpm bench`): how fast processes go when something dies.
 *
 *   host-kill  `qntx server` with three spawned plugins, each with a `sleep` child in its
 *              process group: `plain` (fake-plugin, exits on SIGTERM, does not watch
 *              QNTX_HOST_PID), `stubborn` (fake-plugin `ignores-shutdown`: only SIGKILL ends it)
 *              and `sdk` (an SDK plugin: it exits by itself when the host dies, its child does
 *              not). The host is SIGKILLed; we time until each plugin's process group is empty
 *              (every member gone, the child included), up to --wait seconds. Also the host's
 *              watchdog (if any): its RSS and CPU, and what starting the host's plugins cost.
 *   hung       `qntx server` with one plugin (fake-plugin ok), SIGSTOPped once running. A request
 *              goes out every 50 ms; we time the first 503 (and the first "not answering" one),
 *              the first time the plugin is not `running` (the kill), and its restart (running
 *              again with a new pid).
 *
 * Usage: node bench/investigations/plugin-death.mjs host-kill|hung [--rounds N] [--repo DIR] [--wait S]
 *        [--set key=value]...   (hung: [host] settings, e.g. --set health_interval_ms=500)
 * Figures in ms from the SIGKILL / SIGSTOP; medians over rounds (each round printed too).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { REPO_DIR, cpuMsOf, rssOf, stopChild, tempDir, waitFor, waitForHostUrl, waitForRunningPlugins } from "../lib/procs.mjs";

const args = process.argv.slice(2);
const mode = args[0];
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};
const rounds = Number(option("--rounds", 3));
const repo = resolve(option("--repo", REPO_DIR));
const waitMs = Number(option("--wait", 15)) * 1000;
const settings = Object.fromEntries(args.flatMap((a, i) => (a === "--set" ? [args[i + 1].split("=")] : [])).map(([k, v]) => [k, Number(v)]));
const FAKE = join(repo, "host/test/fixtures/fake-plugin.mjs");
const JOB = join(repo, "host/test/fixtures/job-plugin.mjs");
const CLI = join(repo, "host/dist/cli.js");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : undefined);
const fmt = (x) => (x === undefined ? "never" : `${Math.round(x)}`);

/** Members of process group `pgid` (Linux: the 5th field of /proc/PID/stat), zombies excluded. */
function groupMembers(pgid) {
  const members = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z" && Number(fields[2]) === pgid) members.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return members;
}

/** Direct children of `pid` (Linux). */
function childrenOf(pid) {
  const out = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim().split(" ").filter(Boolean).map(Number));
    } catch {
      // thread gone
    }
  }
  return out;
}

function toml(dir, plugins, host = {}) {
  const lines = ["[host]", 'listen = "127.0.0.1:0"', `data_dir = ${JSON.stringify(join(dir, "data"))}`, `plugin_base_port = ${40000 + Math.floor(Math.random() * 200) * 100}`];
  for (const [k, v] of Object.entries(host)) lines.push(`${k} = ${JSON.stringify(v)}`);
  lines.push("");
  for (const p of plugins) lines.push(`[plugins.${p.name}]`, `binary = ${JSON.stringify(p.binary)}`, `args = ${JSON.stringify(p.args)}`, "");
  return lines.join("\n");
}

function startServer(dir, config) {
  writeFileSync(join(dir, "am.plugins.toml"), config);
  const server = spawn(process.execPath, [CLI, "server", "--config", join(dir, "am.plugins.toml")], { stdio: ["ignore", "ignore", "ignore"], env: { ...process.env, QNTX_LOG_LEVEL: "warn" } });
  return server;
}

async function hostKillRound() {
  const { dir, cleanup } = tempDir("death");
  const childFile = (name) => join(dir, `${name}.child`);
  const plugins = [
    { name: "plain", binary: FAKE, args: ["--scenario", "ok", "--name", "plain", "--spawn-child", childFile("plain")] },
    { name: "stubborn", binary: FAKE, args: ["--scenario", "ignores-shutdown", "--name", "stubborn", "--spawn-child", childFile("stubborn")] },
    { name: "sdk", binary: JOB, args: ["--name", "sdk", "--spawn-child", childFile("sdk")] },
  ];
  const server = startServer(dir, toml(dir, plugins));
  const groups = {};
  try {
    const url = await waitForHostUrl(join(dir, "data"));
    const list = await waitForRunningPlugins(url, plugins.length);
    for (const p of list) groups[p.name] = p.pid;
    await waitFor(async () => plugins.every((p) => existsSync(childFile(p.name)) && readFileSync(childFile(p.name), "utf8").trim()), 10_000, "children");
    const pluginPids = new Set(Object.values(groups));
    const watchdogs = childrenOf(server.pid).filter((pid) => !pluginPids.has(pid));
    const watchdog = watchdogs.length ? { pids: watchdogs, rssMb: watchdogs.reduce((s, pid) => s + rssOf(pid), 0) / 2 ** 20, cpuMs: watchdogs.reduce((s, pid) => s + cpuMsOf(pid), 0) } : undefined;
    await sleep(300);
    const killedAt = performance.now();
    server.kill("SIGKILL");
    const gone = {};
    while (performance.now() - killedAt < waitMs && Object.keys(gone).length < plugins.length) {
      for (const [name, pgid] of Object.entries(groups)) {
        if (gone[name] === undefined && groupMembers(pgid).length === 0) gone[name] = performance.now() - killedAt;
      }
      await sleep(10);
    }
    return { gone, watchdog };
  } finally {
    if (server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
    for (const pgid of Object.values(groups)) {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    cleanup();
  }
}

async function hungRound() {
  const { dir, cleanup } = tempDir("hung");
  const host = { health_interval_ms: 500, health_failures: 3, request_timeout_ms: 5000, restart_backoff_base_ms: 100, ...settings };
  const server = startServer(dir, toml(dir, [{ name: "frozen", binary: FAKE, args: ["--scenario", "ok", "--name", "frozen"] }], host));
  let pid;
  try {
    const url = await waitForHostUrl(join(dir, "data"));
    pid = (await waitForRunningPlugins(url, 1))[0].pid;
    await sleep(Math.max(1000, host.health_interval_ms * 2));
    const stoppedAt = performance.now();
    process.kill(pid, "SIGSTOP");
    const answers = [];
    let detected;
    let restarted;
    const requests = [];
    const deadline = stoppedAt + 60_000;
    const fire = async () => {
      const sent = performance.now() - stoppedAt;
      try {
        const res = await fetch(`${url}/api/frozen/ping`);
        const text = await res.text();
        answers.push({ sent, at: performance.now() - stoppedAt, status: res.status, text });
      } catch (error) {
        answers.push({ sent, at: performance.now() - stoppedAt, status: 0, text: String(error) });
      }
    };
    while (restarted === undefined && performance.now() < deadline) {
      requests.push(fire());
      const info = await (await fetch(`${url}/api/plugins/frozen`)).json();
      const now = performance.now() - stoppedAt;
      if (detected === undefined && info.plugin.state !== "running") detected = now;
      if (info.plugin.state === "running" && info.plugin.pid && info.plugin.pid !== pid) restarted = now;
      await sleep(50);
    }
    await Promise.all(requests);
    const first503 = answers.filter((a) => a.status === 503).sort((a, b) => a.at - b.at)[0];
    const firstNotAnswering = answers.filter((a) => a.status === 503 && a.text.includes("not answering")).sort((a, b) => a.at - b.at)[0];
    const timedOut = answers.filter((a) => a.status === 504);
    // Requests sent while the plugin was hung but before the host refused them: how they ended.
    const stuck = answers.filter((a) => a.sent < (first503?.sent ?? Infinity) && a.status !== 200);
    const statuses = {};
    for (const a of stuck) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
    return {
      stuck: stuck.length,
      stuckMs: median(stuck.map((a) => a.at - a.sent)),
      stuckStatuses: JSON.stringify(statuses),
      first503: first503?.at,
      firstNotAnswering: firstNotAnswering?.at,
      notAnsweringBody: firstNotAnswering?.text,
      detected,
      restarted,
      timeouts: timedOut.length,
      timeoutMs: median(timedOut.map((a) => a.at - a.sent)),
      requests: answers.length,
    };
  } finally {
    if (pid) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    await stopChild(server);
    cleanup();
  }
}

if (mode === "host-kill") {
  const all = [];
  for (let i = 0; i < rounds; i++) {
    const r = await hostKillRound();
    all.push(r);
    console.log(`round ${i + 1}: ${Object.entries(r.gone).map(([n, ms]) => `${n} ${fmt(ms)} ms`).join(", ") || "no group ended"}${r.watchdog ? `; watchdog pids ${r.watchdog.pids.join(",")} RSS ${r.watchdog.rssMb.toFixed(1)} MB CPU ${r.watchdog.cpuMs} ms` : "; no watchdog"}`);
  }
  for (const name of ["plain", "stubborn", "sdk"]) {
    const xs = all.map((r) => r.gone[name]).filter((x) => x !== undefined);
    console.log(`${name}: group gone after ${fmt(median(xs))} ms (median of ${xs.length}; ${all.length - xs.length} still alive after ${waitMs / 1000} s)`);
  }
} else if (mode === "hung") {
  const all = [];
  for (let i = 0; i < rounds; i++) {
    const r = await hungRound();
    all.push(r);
    console.log(`round ${i + 1}: first 503 ${fmt(r.first503)} ms, first "not answering" ${fmt(r.firstNotAnswering)} ms, not running ${fmt(r.detected)} ms, restarted ${fmt(r.restarted)} ms; ${r.timeouts} of ${r.requests} requests timed out (504, median ${fmt(r.timeoutMs)} ms each); ${r.stuck} sent before the first 503 failed after a median ${fmt(r.stuckMs)} ms (${r.stuckStatuses})`);
    if (i === 0 && r.notAnsweringBody) console.log(`  body: ${r.notAnsweringBody}`);
  }
  const m = (k) => fmt(median(all.map((r) => r[k]).filter((x) => x !== undefined)));
  console.log(`median: first 503 ${m("first503")} ms, first "not answering" ${m("firstNotAnswering")} ms, not running ${m("detected")} ms, restarted ${m("restarted")} ms`);
} else {
  console.error("usage: plugin-death.mjs host-kill|hung [--rounds N] [--repo DIR] [--wait S] [--set key=value]...");
  process.exit(2);
}
