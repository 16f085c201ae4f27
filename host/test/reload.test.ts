/**
 * Hot-swap with a real `qntx server` process and real plugin processes: editing the config
 * file while the host runs starts added plugins, stops removed ones and restarts changed ones
 * (the rest keep their process); a bad edit is refused with its error logged and the running
 * set left as it was; `qntx plugin reload` and SIGHUP do the same on demand.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execa, type ResultPromise } from "execa";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, adminHeaders, fakePluginTable, hostTable, http, until } from "./harness.js";
import { hostUrlOnceListening } from "./helpers/events.js";

interface PluginJson {
  name: string;
  state: string;
  pid: number | null;
}

let dir: string;
let configFile: string;
let hostSection: string;
let server: ResultPromise;
let url: string;
/** The host's log lines (JSON) so far. */
const lines: Array<{ msg: string; [key: string]: unknown }> = [];

async function plugins(): Promise<Record<string, PluginJson>> {
  const list = (await http(`${url}/api/plugins`)).json().plugins as PluginJson[];
  return Object.fromEntries(list.map((p) => [p.name, p]));
}

/** Writes the config: the `[host]` table plus `plugins` (TOML). */
function writeConfig(plugins: string): void {
  writeFileSync(configFile, `${hostSection}\n${plugins}`);
}

/** Waits for the n-th host log line with `message` and, when given, the reload's `reason`. */
function reloads(message: string, count: number, reason?: string): Promise<Record<string, unknown>> {
  const matching = () => lines.filter((l) => l.msg === message && (reason === undefined || l.reason === reason));
  return until(() => matching()[count - 1], `${count} × "${message}"${reason ? ` (${reason})` : ""}`, 20_000);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "qntx-reload-"));
  configFile = join(dir, "am.plugins.toml");
  hostSection = await hostTable(dir);
  writeConfig(`${fakePluginTable("keep", "ok")}\n${fakePluginTable("drop", "ok")}\n${fakePluginTable("change", "ok", [], 'config = { colour = "red" }')}`);
  server = execa(process.execPath, [CLI, "server", "--config", configFile], { reject: false, buffer: false, env: { QNTX_LOG_LEVEL: "info" } });
  let partial = "";
  server.stdout!.on("data", (chunk: Buffer) => {
    const parts = (partial + chunk.toString("utf8")).split("\n");
    partial = parts.pop()!;
    for (const line of parts) if (line.startsWith("{")) lines.push(JSON.parse(line));
  });
  server.stderr!.resume();
  const hostFile = join(dir, "data", "host.json");
  url = await hostUrlOnceListening(hostFile);
  await until(async () => {
    const all = Object.values(await plugins());
    return all.length === 3 && all.every((p) => p.state === "running") ? true : undefined;
  }, "three plugins running", 30_000);
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await server;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("editing the config while the host runs", () => {
  it("starts added plugins, stops removed ones, restarts changed ones and leaves the rest alone", async () => {
    const before = await plugins();
    writeConfig(`${fakePluginTable("keep", "ok")}\n${fakePluginTable("change", "ok", [], 'config = { colour = "blue" }')}\n${fakePluginTable("added", "ok")}`);
    const summary = await reloads("config reloaded", 1, "am.plugins.toml changed");
    expect(summary).toMatchObject({ added: ["added"], removed: ["drop"], restarted: ["change"], failed: [] });
    const after = await plugins();
    expect(Object.keys(after).sort()).toEqual(["added", "change", "keep"]);
    expect(after.added!.state).toBe("running");
    expect(after.keep!.pid).toBe(before.keep!.pid);
    expect(after.change!.state).toBe("running");
    expect(after.change!.pid).not.toBe(before.change!.pid);
    expect((await http(`${url}/api/change/config`)).json()).toEqual({ colour: "blue" });
    // The removed plugin's process is gone and its routes are unknown.
    expect((await http(`${url}/api/drop/ping`)).status).toBe(404);
    await until(() => {
      try {
        process.kill(before.drop!.pid!, 0);
        return undefined;
      } catch {
        return true;
      }
    }, "the removed plugin's process to exit");
  });

  it("refuses a bad edit whole: the error is logged, the running set stays as it was", async () => {
    const before = await plugins();
    writeConfig(`${fakePluginTable("keep", "ok")}\n[plugins.change]\nbinary = 42\n`);
    const refused = await reloads("config reload refused: the running plugins are left as they were", 1);
    expect(String(refused.err)).toMatch(/am\.plugins\.toml:\d+: plugins\.change\.binary must be a string/);
    const shape = (all: Record<string, PluginJson>) => Object.values(all).map(({ name, state, pid }) => ({ name, state, pid }));
    expect(shape(await plugins())).toEqual(shape(before));
    // The same through the API: a 400 naming the file and line.
    const res = await http(`${url}/api/plugins/reload`, { method: "POST", headers: adminHeaders({ dir }) });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ code: "CONFIG_INVALID", error: expect.stringMatching(/am\.plugins\.toml:\d+:/) });
  });
});

describe("reload on demand", () => {
  it("`qntx plugin reload` applies the file and prints what changed", async () => {
    // Written with the watcher's debounce in mind: the CLI's reload and the watcher's may
    // both run; the second finds nothing left to change.
    writeConfig(`${fakePluginTable("keep", "ok")}\n${fakePluginTable("change", "ok", [], 'config = { colour = "blue" }')}\n${fakePluginTable("added", "ok")}\n${fakePluginTable("cli", "ok")}`);
    const result = await execa(process.execPath, [CLI, "plugin", "reload", "--data-dir", join(dir, "data")], { reject: false });
    expect(result.exitCode).toBe(0);
    const text = result.stdout;
    expect(text).toMatch(/^added: (cli|-)$/m);
    await until(async () => ((await plugins()).cli?.state === "running" ? true : undefined), "cli to run");
  });

  it("SIGHUP reloads the config", async () => {
    writeConfig(`${fakePluginTable("keep", "ok")}\n${fakePluginTable("change", "ok", [], 'config = { colour = "blue" }')}\n${fakePluginTable("added", "ok")}`);
    server.kill("SIGHUP");
    await reloads("config reloaded", 1, "SIGHUP");
    await until(async () => ((await plugins()).cli === undefined ? true : undefined), "cli to be removed");
    expect(server.exitCode).toBeNull();
  });
});
