/**
 * Orphans: a SIGKILLed host leaves no plugin processes behind. SDK plugins exit by themselves
 * (parent-death watch); others are stopped by the next host from the pid file — but a pid
 * that now belongs to another process is never touched.
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import { execa, type ResultPromise } from "execa";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processIdentity, sweepOrphans } from "../src/plugin/pid-file.js";
import { CLI, HELLO_PLUGIN, fakePluginTable, hostTable, http, processesWithArgs, until } from "./harness.js";

const dirs: string[] = [];
const servers: ResultPromise[] = [];

afterAll(async () => {
  for (const server of servers) if (server.exitCode === null) server.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  return processIdentity(pid) !== undefined;
}

async function startServer(dir: string, configFile: string): Promise<{ server: ResultPromise; plugins: Record<string, { pid: number; state: string }> }> {
  rmSync(join(dir, "data", "host.json"), { force: true });
  const server = execa(process.execPath, [CLI, "server", "--config", configFile], { reject: false, buffer: false, env: { QNTX_LOG_LEVEL: "warn" } });
  servers.push(server);
  server.stdout!.resume();
  server.stderr!.resume();
  const hostFile = join(dir, "data", "host.json");
  const url = await until(() => (existsSync(hostFile) ? (JSON.parse(readFileSync(hostFile, "utf8")) as { url: string }).url : undefined), "host.json");
  const list = await until(async () => {
    const { plugins } = (await http(`${url}/api/plugins`)).json() as { plugins: { name: string; pid: number; state: string }[] };
    return plugins.every((p) => p.state === "running") ? plugins : undefined;
  }, "plugins running");
  return { server, plugins: Object.fromEntries(list.map((p) => [p.name, p])) };
}

describe("a SIGKILLed host", () => {
  it("leaves no plugin processes behind", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qntx-orphans-"));
    dirs.push(dir);
    const configFile = join(dir, "am.plugins.toml");
    writeFileSync(configFile, `${await hostTable(dir)}\n[plugins.hello]\nbinary = ${JSON.stringify(HELLO_PLUGIN)}\n\n${fakePluginTable("rawfake", "ok")}`);

    const first = await startServer(dir, configFile);
    const hello = first.plugins.hello!.pid;
    const raw = first.plugins.rawfake!.pid;
    first.server.kill("SIGKILL");
    await first.server;

    // The SDK plugin notices its host is gone and exits by itself.
    await until(() => (alive(hello) ? undefined : true), "the SDK plugin to exit after its host died", 10_000);
    // A plugin without that watch is still there until the next host starts.
    expect(alive(raw)).toBe(true);

    const second = await startServer(dir, configFile);
    await until(() => (alive(raw) ? undefined : true), "the next host to stop the orphan");
    expect(second.plugins.rawfake!.pid).not.toBe(raw);

    second.server.kill("SIGTERM");
    expect((await second.server).exitCode).toBe(0);
    expect(processesWithArgs(["--name", "rawfake"])).toEqual([]);
    expect(alive(second.plugins.hello!.pid)).toBe(false);
    // A clean stop removes the pid file.
    expect(readdirSync(join(dir, "data")).filter((f) => /^plugins-.*\.pid$/.test(f))).toEqual([]);
  }, 60_000);
});

describe("sweepOrphans", () => {
  it("stops recorded processes of a dead host, but never a reused pid", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qntx-sweep-"));
    dirs.push(dir);
    const deadHost = spawn("true");
    await new Promise((resolve) => deadHost.once("exit", resolve));
    const mine = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
    const stranger = spawn("sleep", ["60"], { stdio: "ignore" });
    await until(() => (processIdentity(mine.pid!)?.cmdline.startsWith("sleep") && processIdentity(stranger.pid!)?.cmdline.startsWith("sleep") ? true : undefined), "sleeps to exec");
    const me = processIdentity(mine.pid!)!;
    const them = processIdentity(stranger.pid!)!;
    writeFileSync(join(dir, "plugins-1234.pid"), JSON.stringify({
      host: { pid: deadHost.pid, startTime: "1" },
      plugins: [
        { name: "mine", pid: mine.pid, startTime: me.startTime, cmdline: me.cmdline },
        // Same pid, but a different start time: the recorded process is gone and the pid was reused.
        { name: "stranger", pid: stranger.pid, startTime: String(Number(them.startTime) - 1), cmdline: them.cmdline },
      ],
    }));
    const result = await sweepOrphans(dir, 500);
    expect(result.killed.map((r) => r.name)).toEqual(["mine"]);
    expect(result.reused.map((r) => r.name)).toEqual(["stranger"]);
    await until(() => (alive(mine.pid!) ? undefined : true), "the orphan to be stopped");
    expect(alive(stranger.pid!)).toBe(true);
    expect(existsSync(join(dir, "plugins-1234.pid"))).toBe(false);
    stranger.kill("SIGKILL");
  });

  it("leaves the records of a host that is still running", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qntx-sweep-"));
    dirs.push(dir);
    const child = spawn("sleep", ["60"], { stdio: "ignore" });
    await until(() => (processIdentity(child.pid!)?.cmdline.startsWith("sleep") ? true : undefined), "sleep to exec");
    const other = processIdentity(child.pid!)!;
    // A live "host" (the sleep itself) with its own start time.
    writeFileSync(join(dir, "plugins-9.pid"), JSON.stringify({ host: { pid: child.pid, startTime: other.startTime }, plugins: [{ name: "x", pid: child.pid, startTime: other.startTime, cmdline: other.cmdline }] }));
    const result = await sweepOrphans(dir, 500);
    expect(result.killed).toEqual([]);
    expect(alive(child.pid!)).toBe(true);
    child.kill("SIGKILL");
  });
});
