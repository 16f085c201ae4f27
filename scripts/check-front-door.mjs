#!/usr/bin/env node
// Checks the README's run command end to end: starts `pnpm start` (or the command given after
// --) with a data dir of its own, waits for the host on the README's address, and checks that
// the README's example URL answers, every example plugin runs, and pyplug and goplug (the Python
// and Go examples) either run or are `failed` with their install command as the hint, as they
// must be on a machine without Debian's Python gRPC or Go packages. Then stops the host (SIGTERM, waits) and exits 0 when
// all of that held, 1 with what went wrong otherwise.
//
//   node scripts/check-front-door.mjs [--timeout SECONDS] [-- COMMAND...]    (default: pnpm start)
//
// CI (.ci/run) runs it under its fresh-machine tool, which hides the Debian packages installed
// since the machine's image: the first run on a fresh machine. The host must get the README's
// port (127.0.0.1:8770, from am.plugins.toml); when something else holds it the check fails at
// once, saying so, rather than talk to another host.
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const HOST = "127.0.0.1";
const PORT = 8770;
const BASE = `http://${HOST}:${PORT}`;
/** The README's example URL. */
const HELLO_URL = `${BASE}/api/hello/hello`;
/** Examples whose toolchain a fresh machine may lack: `failed` with an apt-get hint is right for them. */
const OPTIONAL_TOOLCHAINS = { pyplug: "Python", goplug: "Go" };
/** States a plugin settles in after the host's start; `stopped`/`loading` mean not there yet. */
const SETTLED = new Set(["running", "failed", "paused"]);

const args = process.argv.slice(2);
const dash = args.indexOf("--");
const command = dash >= 0 ? args.slice(dash + 1) : ["pnpm", "start"];
const options = dash >= 0 ? args.slice(0, dash) : args;
// Generous: a cold start builds everything first (about 20 s here) and may run apt-get.
let timeoutMs = 300_000;
for (let i = 0; i < options.length; i++) {
  if (options[i] === "--timeout" && /^\d+$/.test(options[i + 1] ?? "")) timeoutMs = Number(options[++i]) * 1000;
  else fail(`unknown argument ${options[i]} (usage: node scripts/check-front-door.mjs [--timeout SECONDS] [-- COMMAND...])`);
}

function say(line) {
  console.log(`front door: ${line}`);
}

function fail(message, hint) {
  console.error(`front door: FAIL: ${message}${hint ? `\n  hint: ${hint}` : ""}`);
  process.exit(1);
}

/** Resolves when nothing listens on HOST:PORT; rejects with a clear error when something does. */
function portIsFree() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error) => reject(error));
    probe.listen(PORT, HOST, () => probe.close(() => resolve()));
  });
}

async function getJson(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.json();
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

try {
  await portIsFree();
} catch (error) {
  const holder = spawnSync("sh", ["-c", `ss -ltnpH 'sport = :${PORT}' 2>/dev/null`], { encoding: "utf8" }).stdout?.trim();
  fail(`${HOST}:${PORT}, the README's address, is taken (${error.code ?? error.message})${holder ? `: ${holder}` : ""}`,
    "stop whatever listens there (another `pnpm start`?), then run this check again");
}

const home = realpathSync(mkdtempSync(join(tmpdir(), "qntx-front-door-")));
const logFile = join(home, "start.log");
const log = createWriteStream(logFile);
say(`running \`${command.join(" ")}\` in ${ROOT} with QNTX_HOME=${home} (output in ${logFile})`);
const started = Date.now();
// Its own process group, so the SIGTERM at the end reaches pnpm, its shell and the host alike.
const child = spawn(command[0], command.slice(1), { cwd: ROOT, env: { ...process.env, QNTX_HOME: home }, stdio: ["ignore", "pipe", "pipe"], detached: true });
child.stdout.pipe(log, { end: false });
child.stderr.pipe(log, { end: false });
let exited;
const exit = new Promise((resolve) => child.once("exit", (code, signal) => resolve((exited = { code, signal }))));
child.once("error", (error) => fail(`could not run ${command[0]}: ${error.message}`));

function lastOutput(lines = 25) {
  const text = readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n  ");
  return text ? `\n  last output:\n  ${text}` : "";
}

/** Whether any process of the run's group (pnpm, its shell, the host, plugins) is left. */
function groupAlive() {
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the run's process group, then waits for all of it (pnpm may exit before the host has stopped). */
async function stop() {
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // Already gone.
  }
  const giveUp = Date.now() + 30_000;
  while ((!exited || groupAlive()) && Date.now() < giveUp) await sleep(100);
  if (!exited || groupAlive()) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // Gone meanwhile.
    }
    await exit;
    return "it did not stop within 30 s of SIGTERM (killed)";
  }
  return undefined;
}

async function check() {
  // 1. The host is up, it is ours (our data dir), and every plugin has settled.
  let plugins;
  for (;;) {
    if (exited) return `\`${command.join(" ")}\` exited (${exited.signal ?? `exit code ${exited.code}`}) before the host was up${lastOutput()}`;
    if (Date.now() - started > timeoutMs) return `the host was not up with its plugins settled within ${timeoutMs / 1000} s${lastOutput()}`;
    try {
      const info = await getJson(`${BASE}/api/host`);
      if (info.dataDir !== home) return `the host at ${BASE} is not ours (its data dir is ${info.dataDir}, ours ${home})`;
      ({ plugins } = await getJson(`${BASE}/api/plugins`));
      if (plugins.every((p) => SETTLED.has(p.state))) break;
    } catch {
      // Not listening yet (still building), or a request that failed: try again.
    }
    await sleep(250);
  }
  say(`host up after ${((Date.now() - started) / 1000).toFixed(1)} s: ${plugins.map((p) => `${p.name} ${p.state}`).join(", ")}`);

  // 2. The README's example URL answers.
  const curl = spawnSync("curl", ["-sS", "--max-time", "10", "-w", "\n%{http_code}", HELLO_URL], { encoding: "utf8" });
  if (curl.error) return `could not run curl: ${curl.error.message}`;
  const [body, status] = [curl.stdout.slice(0, curl.stdout.lastIndexOf("\n")), curl.stdout.slice(curl.stdout.lastIndexOf("\n") + 1)];
  if (curl.status !== 0 || status !== "200" || !/"message"/.test(body)) {
    return `curl ${HELLO_URL} answered ${status || "nothing"}: ${body || curl.stderr.trim()}`;
  }
  say(`curl ${HELLO_URL} → ${body.trim()}`);

  // 3. Every example runs, except pyplug and goplug, which may be failed with their install
  //    command as the hint (their toolchains are Debian packages a fresh machine lacks).
  const problems = [];
  if (plugins.length < 6) problems.push(`only ${plugins.length} plugins are configured (${plugins.map((p) => p.name).join(", ")}); the README promises six`);
  for (const p of plugins) {
    if (p.state === "running") continue;
    const toolchain = OPTIONAL_TOOLCHAINS[p.name];
    if (toolchain && p.state === "failed") {
      if (!/apt-get install -y \S/.test(p.hint ?? "")) problems.push(`${p.name} is failed without its install command as the hint (hint: ${p.hint ?? "none"}; error: ${p.error})`);
      else say(`${p.name} failed, as it must without the ${toolchain} toolchain; hint: ${p.hint}`);
      continue;
    }
    problems.push(`${p.name} is ${p.state}${p.error ? `: ${p.error}` : ""}${p.hint ? ` (hint: ${p.hint})` : ""}`);
  }
  return problems.length ? problems.join("\n  ") : undefined;
}

let problem;
try {
  problem = await check();
} catch (error) {
  problem = `unexpected error: ${error.stack ?? error}`;
}
const stopProblem = await stop();
log.end();
if (stopProblem && !problem) problem = `${stopProblem}${lastOutput()}`;
if (problem) fail(problem, `the whole output of the run is in ${logFile}`);
say(`host stopped (${exited.signal ?? `exit code ${exited.code}`}); OK in ${((Date.now() - started) / 1000).toFixed(1)} s`);
rmSync(home, { recursive: true, force: true });
