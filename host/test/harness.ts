/**
 * Test harness: starts a real host (in this process) on an ephemeral port, with its own temp
 * data dir and config file, and collects its log lines for assertions. Plugins are real
 * processes. Every test gets its own ports and files, so test files run in parallel.
 */
import * as fs from "node:fs";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { loadConfig } from "../src/config/index.js";
import { startHost, type Host } from "../src/server.js";
import { LogBook, type LogLine } from "./helpers/events.js";

/** The SDK example plugin, built (`pnpm build` runs before the tests). */
export const HELLO_PLUGIN = fileURLToPath(new URL("../../examples/hello/dist/main.js", import.meta.url));
/** The misbehaving-plugin fixture (see fixtures/fake-plugin.mjs for its scenarios). */
export const FAKE_PLUGIN_PATH = fileURLToPath(new URL("./fixtures/fake-plugin.mjs", import.meta.url));
/** The built CLI. */
export const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

export type { LogLine } from "./helpers/events.js";

/** A host started for one test. */
export interface TestHost {
  readonly host: Host;
  readonly url: string;
  readonly dir: string;
  readonly configFile: string;
  readonly logs: LogLine[];
  /** The same lines, with a wait for one that has not come yet (`log.waitFor`). */
  readonly log: LogBook;
  close(): Promise<void>;
}

/** A free TCP port on loopback, picked by the OS. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * TOML for `[host]` with test defaults (ephemeral listen port, temp data dir) plus `host`
 * overrides, and `raw` lines added as they are (inline tables such as `tls = { … }`).
 */
export async function hostTable(dir: string, host: Record<string, string | number | boolean> = {}, raw: readonly string[] = []): Promise<string> {
  const settings: Record<string, string | number | boolean> = {
    listen: "127.0.0.1:0",
    data_dir: join(dir, "data"),
    plugin_base_port: await freePort(),
    // Test files run in parallel on 2 cores: a plugin can take longer than QNTX's 2 s to print
    // its port line, and "assume the port passed" could then reach another test's plugin.
    port_line_timeout_ms: 8000,
    ready_timeout_ms: 10000,
    ...host,
  };
  return `[host]\n${[...Object.entries(settings).map(([k, v]) => `${k} = ${JSON.stringify(v)}`), ...raw].join("\n")}\n`;
}

/** Writes a config (`[host]` from `host`, then the `plugins` TOML text) and starts a host on it. */
export async function startTestHost(plugins: string, host: Record<string, string | number | boolean> = {}, rawHost: readonly string[] = []): Promise<TestHost> {
  const dir = mkdtempSync(join(tmpdir(), "qntx-host-test-"));
  const configFile = join(dir, "am.plugins.toml");
  writeFileSync(configFile, `${await hostTable(dir, host, rawHost)}\n${plugins}\n`);
  const log = new LogBook();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) log.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  const config = loadConfig({ configPath: configFile });
  const started = await startHost(config, pino({ level: "debug" }, sink));
  await started.ready;
  return {
    host: started, url: started.url, dir, configFile, logs: log.lines, log,
    async close() {
      await started.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** TOML table for a plugin spawned from the fake-plugin fixture with a scenario. */
export function fakePluginTable(name: string, scenario: string, extraArgs: string[] = [], extra = ""): string {
  const args = ["--scenario", scenario, "--name", name, ...extraArgs];
  return `[plugins.${name}]\nbinary = ${JSON.stringify(FAKE_PLUGIN_PATH)}\nargs = ${JSON.stringify(args)}\n${extra}\n`;
}

/** GET/POST helper returning status, headers and text body. */
export async function http(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; text: string; json: () => any }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

/**
 * The marker of this test run: jest.preset.js puts `QNTX_TEST_RUN` in the environment of the
 * jest run, and every process a test starts inherits it (plugins from the host, hosts from
 * the CLI). Outside jest it is undefined and nothing is marked.
 */
const TEST_RUN_MARKER = process.env.QNTX_TEST_RUN === undefined ? undefined : `QNTX_TEST_RUN=${process.env.QNTX_TEST_RUN}`;

/**
 * Pids of live processes of this test run (see {@link TEST_RUN_MARKER}) whose argument list
 * contains `args` in a row, read from /proc. Processes of suites running in other checkouts
 * at the same time (same fixture names, same arguments) are not counted.
 */
export function processesWithArgs(args: readonly string[]): number[] {
  if (TEST_RUN_MARKER === undefined) throw new Error("processesWithArgs needs QNTX_TEST_RUN (set by jest.preset.js): run the tests through jest");
  const { readdirSync, readFileSync } = fs;
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (/\) Z /.test(stat)) continue; // a zombie has exited; only its parent's wait is missing
    } catch {
      continue;
    }
    if (!argv.some((_, i) => args.every((a, j) => argv[i + j] === a))) continue;
    if (environmentOf(entry).includes(TEST_RUN_MARKER)) pids.push(Number(entry));
  }
  return pids;
}

/** The `NAME=value` entries a process was started with; empty when they cannot be read. */
function environmentOf(pid: string): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
  } catch {
    return [];
  }
}

/** The job-handler fixture plugin (SDK-based; see fixtures/job-plugin.mjs). */
export const JOB_PLUGIN_PATH = fileURLToPath(new URL("./fixtures/job-plugin.mjs", import.meta.url));

/** TOML table for a plugin spawned from the job fixture. */
export function jobPluginTable(name: string, extraArgs: string[] = []): string {
  return `[plugins.${name}]\nbinary = ${JSON.stringify(JOB_PLUGIN_PATH)}\nargs = ${JSON.stringify(["--name", name, ...extraArgs])}\n\n`;
}

/** The admin token of a test host (for control and job actions). */
export function adminHeaders(t: { dir: string }): Record<string, string> {
  return { authorization: `Bearer ${fs.readFileSync(join(t.dir, "data", "admin.token"), "utf8").trim()}`, "content-type": "application/json" };
}

/**
 * Polls `probe` every 25 ms until it returns a value other than undefined (or times out). Only
 * where nothing announces the change (another process's state, a database row): a log line or
 * a registry event has its wait in helpers/events.ts (docs/development.md, How tests wait).
 */
export async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const giveUp = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > giveUp) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
