/**
 * Child processes for the bench: spawn node scripts, wait for a port line or a JSON result,
 * fork the host runner with an IPC channel, read a process's RSS, stop what we started (by pid).
 */
import { fork, spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { once } from "node:events";

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const REPO_DIR = dirname(BENCH_DIR);
export const FIXTURES = join(BENCH_DIR, "fixtures");

/** A fresh temporary directory (removed by `cleanup()`). */
export function tempDir(label) {
  const dir = mkdtempSync(join(tmpdir(), `qntx-bench-${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A random base port for spawned plugins, away from the host's default (38700) and from other runs. */
export function randomBasePort() {
  return 40000 + Math.floor(Math.random() * 200) * 100;
}

/** Reads VmRSS of `pid` in bytes (Linux). */
export function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1]);
  return kb * 1024;
}

/** CPU time (user + system) `pid` has used so far, in ms (Linux, 10 ms ticks). */
export function cpuMsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU ms used by all `pids` while `fn` runs: resolves with [fn's result, total cpu ms, ms per pid]. */
export async function withCpu(pids, fn) {
  const before = pids.map(cpuMsOf);
  const result = await fn();
  const each = pids.map((pid, i) => cpuMsOf(pid) - before[i]);
  return [result, each.reduce((a, b) => a + b, 0), each];
}

/** Polls `check` every 100 ms until it resolves truthy (a rejection counts as not yet); throws after `timeoutMs`. */
export async function waitFor(check, timeoutMs, what) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The URL a `qntx server` started with data dir `dir` writes to its host.json, once it listens. */
export function waitForHostUrl(dir) {
  const hostFile = join(dir, "host.json");
  return waitFor(async () => existsSync(hostFile) && JSON.parse(readFileSync(hostFile, "utf8")).url, 20_000, "host.json");
}

/** Resolves with `/api/plugins`' list once it has `count` plugins, all running. */
export function waitForRunningPlugins(url, count) {
  return waitFor(async () => {
    const body = await (await fetch(`${url}/api/plugins`)).json();
    return body.plugins.length === count && body.plugins.every((p) => p.state === "running") && body.plugins;
  }, 20_000, `${count} running plugins`);
}

/** Sends SIGTERM to a child we started, then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopChild(child, graceMs = 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Spawns `node script args…` and resolves once it prints `QNTX_PLUGIN_PORT=<n>` (or a line
 * `PORT=<n>`), with the child and the port. Stderr is kept for error messages.
 */
export function spawnWithPort(script, args = [], options = {}) {
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
    cwd: options.cwd ?? REPO_DIR,
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  return new Promise((resolve, reject) => {
    let buffered = "";
    const onData = (data) => {
      buffered += data;
      const match = /(?:QNTX_PLUGIN_PORT|PORT)=(\d+)/.exec(buffered);
      if (match) {
        child.stdout.off("data", onData);
        child.stdout.resume();
        resolve({ child, port: Number(match[1]), portMs: performance.now() - started, started });
      }
    };
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", onData);
    child.once("exit", (code, signal) => reject(new Error(`${script} exited (${code ?? signal}) before printing its port: ${stderr.trim()}`)));
    setTimeout(() => reject(new Error(`${script} printed no port within 20 s: ${stderr.trim()}`)), 20_000).unref();
  });
}

/** Runs `node script args…` to completion and parses the last stdout line as JSON. */
export async function runJson(script, args = [], options = {}) {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args.map(String)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
    cwd: options.cwd ?? REPO_DIR,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d) => (stderr = (stderr + d).slice(-8000)));
  const [code] = await once(child, "exit");
  const lines = stdout.trim().split("\n");
  if (code !== 0) throw new Error(`${script} ${args.join(" ")} exited ${code}: ${stderr.trim() || stdout.slice(-2000)}`);
  try {
    return JSON.parse(lines[lines.length - 1]);
  } catch {
    throw new Error(`${script} printed no JSON result: ${stdout.slice(-2000)} ${stderr.slice(-2000)}`);
  }
}

/**
 * The host under test, in its own process (bench/lib/host-runner.mjs calls `startHost` from
 * @qntx/host, exactly as `qntx server` does, and answers commands over IPC).
 */
export class HostProcess {
  static async start({ toml, dataDir, logLevel = "info", label = "host" }) {
    const logFile = join(dataDir, `${label}.log`);
    const fd = openSync(logFile, "a");
    const child = fork(join(BENCH_DIR, "lib", "host-runner.mjs"), [], {
      // BENCH_PROFILE=<dir>: CPU profiles of the host (and, via hosts.mjs, of its plugins).
      execArgv: process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [],
      stdio: ["ignore", fd, fd, "ipc"],
      env: { ...process.env, QNTX_LOG_LEVEL: logLevel },
      cwd: REPO_DIR,
    });
    closeSync(fd);
    const host = new HostProcess(child, logFile);
    const listening = await host.request({ type: "start", toml, dataDir });
    host.url = listening.url;
    host.servicesAddress = listening.servicesAddress;
    host.pid = child.pid;
    host.startMs = listening.startMs;
    return host;
  }

  constructor(child, logFile) {
    this.child = child;
    this.logFile = logFile;
    this.nextId = 1;
    this.waiting = new Map();
    child.on("message", (message) => {
      const waiter = this.waiting.get(message.id);
      if (!waiter) return;
      this.waiting.delete(message.id);
      if (message.error) waiter.reject(new Error(`host runner: ${message.error}`));
      else waiter.resolve(message.result);
    });
    child.once("exit", (code, signal) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`host runner exited (${code ?? signal}); log: ${this.logTail()}`));
      this.waiting.clear();
    });
  }

  logTail() {
    try {
      return readFileSync(this.logFile, "utf8").slice(-3000);
    } catch {
      return "(no log)";
    }
  }

  /** Sends a command and resolves with its result. */
  request(command) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ ...command, id });
    });
  }

  /** Waits for every boot plugin; resolves with { readyMs (since startHost), plugins }. */
  ready() {
    return this.request({ type: "ready" });
  }

  async close() {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, "exit");
    try {
      await Promise.race([this.request({ type: "close" }), new Promise((r) => setTimeout(r, 10_000))]);
      // The runner exits by itself once closed (which lets --cpu-prof write its profile).
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    } catch {
      // exited on its own
    }
    await stopChild(this.child);
  }
}
