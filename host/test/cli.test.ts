/**
 * The `qntx` CLI as a user runs it: a real `qntx server` process, and `qntx plugin …`
 * commands acting on it.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execa, type ResultPromise } from "execa";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, fakePluginTable, hostTable, http, processesWithArgs, until } from "./harness.js";
import { hostUrlOnceListening } from "./helpers/events.js";

let dir: string;
let configFile: string;
let server: ResultPromise;
let url: string;

/** Runs the CLI to completion. */
function qntx(...args: string[]) {
  return execa(process.execPath, [CLI, ...args], { reject: false, env: { QNTX_HOME: join(dir, "home") } });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "qntx-cli-test-"));
  configFile = join(dir, "am.plugins.toml");
  writeFileSync(configFile, `${await hostTable(dir)}\n${fakePluginTable("clifake", "ok")}\n[plugins.clock]\nbuiltin = "clock"\n`);
  server = execa(process.execPath, [CLI, "server", "--config", configFile], { reject: false, buffer: false, env: { QNTX_LOG_LEVEL: "warn" } });
  server.stdout!.resume();
  server.stderr!.resume();
  const hostFile = join(dir, "data", "host.json");
  url = await hostUrlOnceListening(hostFile);
  // The host is another process that logs only warnings here: its plugins' state shows only
  // through its API, so this is a bounded poll.
  await until(async () => {
    const { plugins } = (await http(`${url}/api/plugins`)).json() as { plugins: { state: string }[] };
    return plugins.every((p) => p.state === "running") ? true : undefined;
  }, "every plugin running");
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await server;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("qntx plugin", () => {
  it("lists plugins as a table", async () => {
    const result = await qntx("plugin", "list", "--config", configFile);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^NAME\s+STATE\s+VERSION/m);
    expect(result.stdout).toMatch(/^clifake\s+running\s+1\.0\.0/m);
    expect(result.stdout).toMatch(/^clock\s+running/m);
  });

  it("lists plugins as JSON", async () => {
    const result = await qntx("plugin", "list", "--json", "--data-dir", join(dir, "data"));
    expect(JSON.parse(result.stdout).map((p: { name: string }) => p.name).sort()).toEqual(["clifake", "clock"]);
  });

  it("stops, starts and restarts a plugin of the running host", async () => {
    const stopped = await qntx("plugin", "stop", "clifake", "--config", configFile);
    expect(stopped.exitCode).toBe(0);
    expect(stopped.stdout).toContain("clifake: stopped");
    expect((await http(`${url}/api/clifake/ping`)).status).toBe(503);
    expect(processesWithArgs(["--name", "clifake"])).toEqual([]);

    const started = await qntx("plugin", "start", "clifake", "--config", configFile);
    expect(started.exitCode).toBe(0);
    expect(started.stdout).toMatch(/clifake: running \(pid \d+\)/);
    const firstPid = Number(/pid (\d+)/.exec(started.stdout)![1]);
    expect((await http(`${url}/api/clifake/ping`)).text).toBe("pong");

    const restarted = await qntx("plugin", "restart", "clifake", "--config", configFile);
    expect(restarted.exitCode).toBe(0);
    const secondPid = Number(/pid (\d+)/.exec(restarted.stdout)![1]);
    expect(secondPid).not.toBe(firstPid);
    expect((await http(`${url}/api/clifake/ping`)).text).toBe("pong");
  });

  it("names a plugin that does not exist", async () => {
    const result = await qntx("plugin", "start", "ghost", "--config", configFile);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('no plugin named "ghost"');
    expect(result.stderr).toContain("clifake");
  });

  it("says when no host is running, and how to start one", async () => {
    const result = await qntx("plugin", "list", "--data-dir", join(dir, "empty"));
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("no qntx host is running");
    expect(result.stderr).toContain("qntx server");
  });

  it("prints help for every command", async () => {
    for (const args of [["--help"], ["server", "--help"], ["plugin", "--help"], ["plugin", "list", "--help"], ["plugin", "start", "--help"], ["plugin", "stop", "--help"], ["plugin", "restart", "--help"]]) {
      const result = await qntx(...args);
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain("Usage: qntx");
    }
  });
});

describe("qntx server", () => {
  it("reports a malformed config with file and line", async () => {
    const bad = join(dir, "bad.toml");
    writeFileSync(bad, `[host]\nlisten = "127.0.0.1:0"\n[plugins.x\nbinary = "a"\n`);
    const result = await qntx("server", "--config", bad);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/bad\.toml:3/);
  });

  it("stops its plugins on SIGTERM", async () => {
    server.kill("SIGTERM");
    const result = await server;
    expect(result.exitCode).toBe(0);
    expect(processesWithArgs(["--name", "clifake"])).toEqual([]);
    expect(existsSync(join(dir, "data", "host.json"))).toBe(false);
  });
});
