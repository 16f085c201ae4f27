/**
 * `qntx plugin check` as a user runs it: the built CLI (host/dist/cli.js) against real plugin
 * processes — the SDK example, the Python example, an SDK fixture whose Initialize needs the
 * real ATS, and the misbehaving fake-plugin scenarios, each of which must produce its own FAIL
 * line — plus an address target and bad targets. Budgets that are not under test are generous
 * (tests run in parallel on 2 cores); the ones under test are short so hangs end quickly.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execa } from "execa";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { CLI, FAKE_PLUGIN_PATH, HELLO_PLUGIN, processesWithArgs, until } from "./harness.js";
import { freePort } from "./helpers/ports.js";
import { itWithPython } from "./helpers/toolchain.js";

const CHECK_PLUGIN = fileURLToPath(new URL("./fixtures/check-plugin.mjs", import.meta.url));
const WS_PLUGIN = fileURLToPath(new URL("./fixtures/ws-plugin.mjs", import.meta.url));
const PY_RUN = fileURLToPath(new URL("../../examples/python-plugin/run.sh", import.meta.url));

/** Budgets that are not what a test is about: long enough for a loaded machine. */
const RELAXED = ["--port-line-timeout", "10", "--ready-timeout", "10", "--timeout", "10"];

let home: string;

interface Step {
  id: string;
  title: string;
  status: "PASS" | "FAIL" | "SKIP";
  detail: string;
  hint?: string;
}
interface Report {
  ok: boolean;
  kind: string;
  plugin: { name: string; version: string } | null;
  steps: Step[];
  passed: number;
  failed: number;
  skipped: number;
}

/** Runs `qntx plugin check …` to completion, from a free base port (options first: `--` may end `args`). */
async function check(args: string[], env: Record<string, string> = {}) {
  const basePort = String(await freePort());
  return execa(process.execPath, [CLI, "plugin", "check", "--base-port", basePort, ...args], { reject: false, env: { QNTX_HOME: home, ...env } });
}

/** Runs the check with --json and parses the report. */
async function checkJson(args: string[], env: Record<string, string> = {}): Promise<{ exitCode: number | undefined; report: Report; stderr: string }> {
  const result = await check(["--json", ...args], env);
  try {
    return { exitCode: result.exitCode, report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
  } catch {
    throw new Error(`not JSON (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** The one step with `title`. */
function step(report: Report, title: string): Step {
  const found = report.steps.filter((s) => s.title === title);
  if (found.length !== 1) throw new Error(`expected one step "${title}", got ${found.length}: ${report.steps.map((s) => `${s.status} ${s.title}`).join("; ")}`);
  return found[0]!;
}

const fake = (scenario: string, ...options: string[]): string[] => [FAKE_PLUGIN_PATH, "--name", "fake", ...options, "--", "--scenario", scenario];

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), "qntx-check-test-"));
});

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

describe("plugins that conform", () => {
  it("examples/hello passes every step, one PASS or SKIP line each, exit 0", async () => {
    const result = await check([HELLO_PLUGIN, "--name", "hello", "--config", "greeting=Hi", ...RELAXED]);
    expect(result.stderr).toBe("");
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^qntx plugin check .*examples\/hello\/dist\/main\.js \(hello 0\.1\.0\)$/);
    // Run from the repository, whose am.plugins.toml lists hello: the last line is its grants.
    expect(lines.at(-1)).toMatch(/^grants of hello in .*am\.plugins\.toml: services: any; enqueue: any; attest: any$/);
    lines.pop();
    for (const line of lines.slice(1, -1)) expect(line).toMatch(/^(PASS|SKIP)  /);
    expect(result.stdout).toMatch(/^PASS {2}spawn --port and port line +QNTX_PLUGIN_PORT=\d+ after /m);
    expect(result.stdout).toMatch(/^PASS {2}HandleHTTP GET \/hello +200 application\/json/m);
    expect(result.stdout).toMatch(/^PASS {2}HandleHTTP GET \/api\/hello\/hello +200 /m);
    expect(result.stdout).toMatch(/^SKIP {2}HandleHTTP GET \/hello\/:name +not called: it has path parameters$/m);
    expect(result.stdout).toMatch(/^PASS {2}ExecuteJob unknown handler +success:false, error "no job handler named/m);
    expect(result.stdout).toMatch(/^PASS {2}exits after Shutdown +exit code 0 after /m);
    expect(lines.at(-1)).toMatch(/^\d+ passed, 0 failed, \d+ skipped$/);
    expect(result.exitCode).toBe(0);
  });

  it("--json prints the same results as JSON", async () => {
    const { exitCode, report } = await checkJson([HELLO_PLUGIN, ...RELAXED]);
    expect(exitCode).toBe(0);
    expect(report).toMatchObject({ ok: true, kind: "spawned", plugin: { name: "hello", version: "0.1.0" }, failed: 0 });
    expect(report.steps.map((s) => s.id)).toEqual(expect.arrayContaining(["port-line", "metadata", "version", "qntx-version", "config-schema", "initialize", "health", "glyphs", "http-route", "http-route-full", "http-unknown", "job-unknown", "websocket", "commands", "shutdown", "exit"]));
    expect(step(report, "qntx_version accepts this host").detail).toMatch(/^">=0\.1\.0" accepts qntx \d+\.\d+\.\d+/);
  });

  it("an SDK plugin whose Initialize writes and reads the ATS meets real services; config from --config and -c", async () => {
    const { exitCode, report } = await checkJson([CHECK_PLUGIN, "--config", "token=t0k", "-c", "limit=3", ...RELAXED]);
    expect(step(report, "ConfigSchema")).toMatchObject({ status: "PASS", detail: "2 fields (limit, token); config valid" });
    expect(step(report, "Initialize")).toMatchObject({ status: "PASS", detail: "2 routes, 3 handlers, 0 schedules, 0 watchers" });
    // The route counts the attestations in the check's own (temporary) store: the one Initialize wrote.
    expect(step(report, "HandleHTTP GET /count")).toMatchObject({ status: "PASS" });
    expect(step(report, "HandleHTTP POST /reset")).toMatchObject({ status: "SKIP", detail: "not called: only GET routes are called (others may change data)" });
    expect(step(report, "ExecuteJob ok")).toMatchObject({ status: "SKIP" });
    expect(exitCode).toBe(0);
  });

  itWithPython(import.meta.url, "the Python plugin passes, its job run with --run-jobs and its WebSocket PONG included", async () => {
    const { exitCode, report } = await checkJson([PY_RUN, "--name", "pyplug", "--run-jobs", ...RELAXED]);
    expect(step(report, "ExecuteJob wordcount")).toMatchObject({ status: "PASS", detail: expect.stringContaining("success:false") });
    expect(step(report, "HandleWebSocket PING → PONG")).toMatchObject({ status: "PASS", detail: expect.stringMatching(/^PONG echoed the PING's timestamp \(\d{19} ns\)$/) });
    expect(step(report, "HandleHTTP GET /api/pyplug/notes").status).toBe("PASS");
    expect(report).toMatchObject({ ok: true, failed: 0 });
    expect(exitCode).toBe(0);
  });

  it("a QNTX-format plugin folder (package.json \"qntx-plugin\": true) runs through the runner and passes", async () => {
    const folder = fileURLToPath(new URL("../../examples/qntx-module", import.meta.url));
    const { exitCode, report } = await checkJson([folder, "--name", "bookmarks", ...RELAXED]);
    expect(step(report, "spawn --port and port line").status).toBe("PASS");
    expect(step(report, "HandleHTTP GET /api/bookmarks/bookmarks").status).toBe("PASS");
    expect(report).toMatchObject({ ok: true, plugin: { name: "bookmarks" } });
    expect(exitCode).toBe(0);
  });

  it("an SDK WebSocket plugin answers the PING with the exact timestamp", async () => {
    const { report } = await checkJson([WS_PLUGIN, ...RELAXED]);
    expect(step(report, "HandleWebSocket PING → PONG").status).toBe("PASS");
  });
});

describe("each misbehaviour has its own FAIL line, and the check always ends", () => {
  it("wrong name: names both", async () => {
    const result = await check(fake("wrong-name", ...RELAXED));
    expect(result.stdout).toMatch(/^FAIL {2}Metadata +the plugin says its name is "someone-else", but "fake" was expected$/m);
    expect(result.stdout).toMatch(/hint: the host refuses it under \[plugins\.fake\]: rename the table to \[plugins\.someone-else\]/);
    expect(result.exitCode).toBe(1);
  });

  it("no port line: says QNTX would assume the port passed, and goes on with it", async () => {
    const { report, exitCode } = await checkJson(fake("never-announces", "--port-line-timeout", "1", "--ready-timeout", "10"));
    expect(step(report, "spawn --port and port line")).toMatchObject({ status: "FAIL", detail: expect.stringMatching(/^no QNTX_PLUGIN_PORT= line within 1 s: QNTX would assume port (\d+); continuing with \1$/) });
    expect(step(report, "Metadata").status).toBe("PASS");
    expect(exitCode).toBe(1);
  });

  it("exits before its port line: exit code and its last output", async () => {
    const { report } = await checkJson(fake("exits-early", ...RELAXED));
    expect(step(report, "spawn --port and port line")).toMatchObject({ status: "FAIL", detail: expect.stringMatching(/exited before announcing its port \(exit code 3\).*fatal: cannot open database/) });
    expect(step(report, "Metadata")).toMatchObject({ status: "SKIP", detail: "not reached: the plugin did not start" });
  });

  it("crashes on its first request: the step that crashed it fails, the rest are not reached", async () => {
    const { report } = await checkJson(fake("crash-after-ready", ...RELAXED));
    expect(step(report, "HandleHTTP GET /ping")).toMatchObject({ status: "FAIL", detail: expect.stringMatching(/^the plugin exited \(exit code 1\) during HandleHTTP GET \/ping; last output: .*panic: crash-after-ready/) });
    expect(step(report, "Shutdown")).toMatchObject({ status: "SKIP", detail: expect.stringMatching(/^not reached: the plugin exited \(exit code 1\)/) });
  });

  it("hangs in Initialize: no answer in N s, and the check goes on", async () => {
    const { report } = await checkJson(fake("hangs-initialize", "--port-line-timeout", "10", "--ready-timeout", "10", "--timeout", "1"));
    expect(step(report, "Initialize")).toMatchObject({ status: "FAIL", detail: "Initialize: no answer in 1 s" });
    expect(step(report, "HandleHTTP routes")).toMatchObject({ status: "SKIP", detail: "no routes known: Initialize failed" });
    expect(step(report, "exits after Shutdown").status).toBe("PASS");
  });

  it("accepts connections but never answers: Metadata fails after the ready budget", async () => {
    const { report } = await checkJson(fake("never-answers", "--port-line-timeout", "10", "--ready-timeout", "1"));
    expect(step(report, "Metadata")).toMatchObject({ status: "FAIL", detail: expect.stringMatching(/^no answer in 1 s at 127\.0\.0\.1:\d+ \(it accepts connections but never answers\)$/) });
    expect(step(report, "Initialize").status).toBe("SKIP");
  });

  it("ignores Shutdown and SIGTERM: killed with SIGKILL, and no process is left", async () => {
    const marker = `ignores-${process.pid}-${Date.now()}`;
    const { report } = await checkJson([FAKE_PLUGIN_PATH, "--stop-timeout", "1", ...RELAXED, "--", "--scenario", "ignores-shutdown", "--version", "1.0.0", "--name", marker]);
    expect(step(report, "Shutdown").status).toBe("PASS");
    expect(step(report, "exits after Shutdown")).toMatchObject({ status: "FAIL", detail: "still running 1 s after Shutdown: it ignored SIGTERM and was killed with SIGKILL" });
    expect(processesWithArgs(["--name", marker])).toEqual([]);
  });

  it("Ctrl-C during a check stops the plugin's process group too", async () => {
    const marker = `interrupted-${process.pid}-${Date.now()}`;
    const run = execa(process.execPath, [CLI, "plugin", "check", "--base-port", String(await freePort()), FAKE_PLUGIN_PATH, "--timeout", "60", "--", "--scenario", "hangs-initialize", "--name", marker], { reject: false, env: { QNTX_HOME: home } });
    // The CLI's own argv holds the marker too: only other processes are the plugin.
    const plugins = (): number[] => processesWithArgs(["--name", marker]).filter((pid) => pid !== run.pid);
    await until(() => (plugins().length > 0 ? true : undefined), "the plugin process to start");
    run.kill("SIGINT");
    expect((await run).exitCode).toBe(130);
    await until(() => (plugins().length === 0 ? true : undefined), "the plugin process to be gone");
  });

  it("only full paths: the stripped path fails, the full path passes", async () => {
    const { report } = await checkJson(fake("full-path-only", ...RELAXED));
    expect(step(report, "HandleHTTP GET /ping")).toMatchObject({ status: "FAIL", detail: "404 for a route the plugin announced: not found (full path expected)" });
    expect(step(report, "HandleHTTP GET /api/fake/ping").status).toBe("PASS");
  });

  it("the ok scenario: no full paths, success:true for an unknown job, int64 timestamps it cannot decode", async () => {
    const { report } = await checkJson(fake("ok", ...RELAXED));
    expect(step(report, "HandleHTTP GET /api/fake/ping")).toMatchObject({ status: "FAIL", hint: expect.stringContaining("accept both forms") });
    expect(step(report, "ExecuteJob unknown handler")).toMatchObject({ status: "FAIL", detail: "success:true for a handler the plugin does not have" });
    expect(step(report, "HandleWebSocket PING → PONG")).toMatchObject({ status: "FAIL", detail: expect.stringContaining("could not decode the host's frames") });
    expect(step(report, "Commands")).toMatchObject({ status: "SKIP", detail: expect.stringContaining("UNIMPLEMENTED") });
  });

  it("a version that is not semver, and a qntx_version this host does not satisfy", async () => {
    const { report } = await checkJson([FAKE_PLUGIN_PATH, ...RELAXED, "--", "--version", "1.0", "--qntx-version", ">=99.0.0"]);
    expect(step(report, "version is semver")).toMatchObject({ status: "FAIL", detail: '"1.0" is not a semver version' });
    expect(step(report, "qntx_version accepts this host")).toMatchObject({ status: "FAIL", detail: expect.stringMatching(/needs qntx >=99\.0\.0, but this host is \d+\.\d+\.\d+/) });
  });

  it("a WebSocket plugin that never answers PING: no PONG in N s", async () => {
    const { report } = await checkJson([WS_PLUGIN, "--port-line-timeout", "10", "--ready-timeout", "10", "--timeout", "1", "--", "--mode", "no-pong"]);
    expect(step(report, "HandleWebSocket PING → PONG")).toMatchObject({ status: "FAIL", detail: "no PONG in 1 s after CONNECT and PING" });
  });

  it("a config that fails the schema, and jobs run with --run-jobs: answered, failed in the body, hung", async () => {
    const bad = await checkJson([CHECK_PLUGIN, "--config", "limit=50", ...RELAXED]);
    expect(step(bad.report, "ConfigSchema")).toMatchObject({ status: "FAIL", detail: "the config does not satisfy the schema: limit: must be at most 10 (got 50); token: required (a required key) but missing" });
    const jobs = await checkJson([CHECK_PLUGIN, "-c", "token=x", "--run-jobs", "--job-timeout", "1", ...RELAXED]);
    expect(step(jobs.report, "ExecuteJob ok")).toMatchObject({ status: "PASS", detail: expect.stringMatching(/^success:true, result \d+ bytes, progress 1\/1/) });
    expect(step(jobs.report, "ExecuteJob fails")).toMatchObject({ status: "PASS", detail: 'answered in the body: success:false, error "boom" (with payload {})' });
    expect(step(jobs.report, "ExecuteJob hang")).toMatchObject({ status: "FAIL", detail: "ExecuteJob hang: no answer in 1 s" });
    expect(jobs.exitCode).toBe(1);
  });
});

describe("an address target", () => {
  let plugin: ChildProcess;
  let address: string;
  let pluginStderr = "";

  beforeAll(async () => {
    // stderr kept: the SDK logs "initialized" on each Initialize, which tells whether the check sent one.
    plugin = spawn(process.execPath, [HELLO_PLUGIN, "--port", String(await freePort())], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, QNTX_LOG_LEVEL: "info" } });
    plugin.stderr!.setEncoding("utf8").on("data", (chunk: string) => (pluginStderr += chunk));
    address = await new Promise<string>((resolve, reject) => {
      plugin.once("exit", (code) => reject(new Error(`hello exited with ${code}`)));
      createInterface({ input: plugin.stdout! }).on("line", (line) => {
        const match = /^QNTX_PLUGIN_PORT=(\d+)$/.exec(line);
        if (match) resolve(`127.0.0.1:${match[1]}`);
      });
    });
  });

  afterAll(() => {
    plugin?.kill("SIGKILL");
  });

  const initializedLines = (): number => pluginStderr.split("\n").filter((line) => line.includes('"msg":"initialized"')).length;

  it("is dialled: spawn, Shutdown and exit are skipped, state-changing calls are SKIPs with a hint, and the plugin keeps running uninitialized", async () => {
    const result = await check([address, "--name", "hello", ...RELAXED]);
    expect(result.stdout).toMatch(new RegExp(`^SKIP {2}spawn --port and port line +not spawned: dialling ${address.replace(/\./g, "\\.")}`, "m"));
    expect(result.stdout).toMatch(/^SKIP {2}Shutdown +not sent: the plugin at an address keeps running/m);
    expect(result.stdout).toMatch(/^SKIP {2}exits after Shutdown /m);
    // Only the calls that read run.
    for (const title of ["Metadata", "version is semver", "qntx_version accepts this host", "ConfigSchema", "Health", "RegisterGlyphs", "Commands"]) {
      expect(result.stdout).toMatch(new RegExp(`^PASS {2}${title} `, "m"));
    }
    const at = address.replace(/\./g, "\\.");
    const hint = "\\n {6}hint: add --reinitialize to run it \\(then restart the plugin from its host\\)";
    expect(result.stdout).toMatch(new RegExp(`^SKIP {2}Initialize +not sent: it would re-initialize the live plugin at ${at} with the check's temporary services${hint}`, "m"));
    for (const title of ["HandleHTTP routes", "HandleHTTP unknown path → 404", "ExecuteJob unknown handler", "HandleWebSocket PING → PONG"]) {
      expect(result.stdout).toMatch(new RegExp(`^SKIP {2}${title} +not run: it needs Initialize, which was not sent to the live plugin at ${at}${hint}`, "m"));
    }
    expect(result.stdout).not.toMatch(/^FAIL/m);
    expect(result.exitCode).toBe(0);
    expect(plugin.exitCode).toBeNull();
    expect(initializedLines()).toBe(0);
  });

  it("with --run-jobs but without --reinitialize, says why no job runs", async () => {
    const result = await check([address, "--name", "hello", "--run-jobs", ...RELAXED]);
    const at = address.replace(/\./g, "\\.");
    expect(result.stdout).toMatch(new RegExp(`^SKIP {2}ExecuteJob announced handlers +not run: it needs Initialize, which was not sent to the live plugin at ${at}`, "m"));
    expect(result.exitCode).toBe(0);
    expect(initializedLines()).toBe(0);
  });

  it("with --reinitialize: Initialize and the HTTP steps run, with a note that the plugin now uses the check's services", async () => {
    const { report, exitCode } = await checkJson([address, "--name", "hello", "--reinitialize", ...RELAXED]);
    expect(step(report, "Initialize")).toMatchObject({ status: "PASS", detail: expect.stringContaining("note: the plugin at this address now uses the check's temporary services") });
    expect(step(report, "HandleHTTP unknown path → 404").status).toBe("PASS");
    expect(report.steps.filter((s) => s.hint?.startsWith("add --reinitialize"))).toEqual([]);
    expect(exitCode).toBe(0);
    expect(plugin.exitCode).toBeNull();
    expect(initializedLines()).toBe(1);
  });

  it("with nothing listening: Metadata fails with the refusal, exit 1", async () => {
    const { report, exitCode } = await checkJson([`127.0.0.1:${await freePort()}`, "--ready-timeout", "1"]);
    expect(step(report, "Metadata")).toMatchObject({ status: "FAIL", detail: expect.stringContaining("connection refused") });
    expect(exitCode).toBe(1);
  });
});

describe("bad targets and options get a clear error", () => {
  it("a missing binary lists the paths searched", async () => {
    const result = await check(["./no-such-plugin-binary"]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^error: plugin binary "\.\/no-such-plugin-binary" not found \(searched: .*no-such-plugin-binary/);
    expect(result.stderr).toMatch(/hint: give the plugin's executable, a \.js\/\.mjs script, a plugin folder, or host:port/);
  });

  it("an address with a scheme", async () => {
    const result = await check(["http://127.0.0.1:9000"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('"http://127.0.0.1:9000" has a scheme (http://), but plugin addresses are host:port');
    expect(result.stderr).toContain("hint: qntx plugin check 127.0.0.1:9000");
  });

  it("a --config entry without =", async () => {
    const result = await check([HELLO_PLUGIN, "--config", "greeting"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("--config greeting: expected key=value");
  });
});
