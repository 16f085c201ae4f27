/**
 * Orphans: a SIGKILLed host leaves no plugin processes behind. Its watchdog stops every
 * plugin's process group within seconds — plugins that ignore QNTX_HOST_PID and the children of
 * those that do not. Should the watchdog die too, the next host stops them from the pid file,
 * what is left of a plugin that exited included. A pid or group that now belongs to another
 * process is never touched.
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import { execa, type ResultPromise } from "execa";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sweepOrphans } from "../src/plugin/pid-file.js";
import { procfsTable } from "../src/plugin/process-table.js";
import { CLI, FAKE_PLUGIN_PATH, JOB_PLUGIN_PATH, hostTable, http, processesWithArgs, until } from "./harness.js";
import { hostUrlOnceListening } from "./helpers/events.js";

const { stat: processStat, identity: processIdentity, groupMembers } = procfsTable;
const dirs: string[] = [];
const servers: ResultPromise[] = [];
const leftovers: number[] = [];

afterAll(async () => {
  for (const server of servers) if (server.exitCode === null) server.kill("SIGKILL");
  for (const pgid of leftovers) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // gone, as it should be
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  return processIdentity(pid) !== undefined;
}

/** A plugin table with `args`. */
function table(name: string, binary: string, args: string[]): string {
  return `[plugins.${name}]\nbinary = ${JSON.stringify(binary)}\nargs = ${JSON.stringify(args)}\n\n`;
}

/** The pid in `file` once the plugin has written it. */
function childPid(file: string): Promise<number> {
  return until(() => (existsSync(file) && readFileSync(file, "utf8").trim() ? Number(readFileSync(file, "utf8")) : undefined), `a pid in ${file}`);
}

/** The host's watchdog: its child whose command line names it (Linux). */
function watchdogOf(hostPid: number): number | undefined {
  for (const task of readdirSync(`/proc/${hostPid}/task`)) {
    const children = readFileSync(`/proc/${hostPid}/task/${task}/children`, "utf8").trim().split(" ").filter(Boolean).map(Number);
    const found = children.find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("qntx-watchdog");
      } catch {
        return false;
      }
    });
    if (found) return found;
  }
  return undefined;
}

async function startServer(dir: string, configFile: string): Promise<{ server: ResultPromise; plugins: Record<string, { pid: number; state: string }> }> {
  rmSync(join(dir, "data", "host.json"), { force: true });
  const server = execa(process.execPath, [CLI, "server", "--config", configFile], { reject: false, buffer: false, env: { QNTX_LOG_LEVEL: "warn" } });
  servers.push(server);
  server.stdout!.resume();
  server.stderr!.resume();
  const hostFile = join(dir, "data", "host.json");
  const url = await hostUrlOnceListening(hostFile);
  const list = await until(async () => {
    const { plugins } = (await http(`${url}/api/plugins`)).json() as { plugins: { name: string; pid: number; state: string }[] };
    return plugins.every((p) => p.state === "running") ? plugins : undefined;
  }, "plugins running");
  for (const p of list) leftovers.push(p.pid);
  return { server, plugins: Object.fromEntries(list.map((p) => [p.name, p])) };
}

describe("a SIGKILLed host", () => {
  it("has its watchdog stop every plugin's process group within seconds, children included", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qntx-orphans-"));
    dirs.push(dir);
    const configFile = join(dir, "am.plugins.toml");
    const child = (name: string) => join(dir, `${name}.child`);
    writeFileSync(configFile, `${await hostTable(dir)}\n`
      // Ignores QNTX_HOST_PID; exits on SIGTERM.
      + table("plain", FAKE_PLUGIN_PATH, ["--scenario", "ok", "--name", "plain", "--spawn-child", child("plain")])
      // Ignores QNTX_HOST_PID and SIGTERM: only SIGKILL ends it.
      + table("stubborn", FAKE_PLUGIN_PATH, ["--scenario", "ignores-shutdown", "--name", "stubborn", "--spawn-child", child("stubborn")])
      // Watches QNTX_HOST_PID and exits by itself, but its child does not.
      + table("sdk", JOB_PLUGIN_PATH, ["--name", "sdk", "--spawn-child", child("sdk")]));

    const { server, plugins } = await startServer(dir, configFile);
    const groups = ["plain", "stubborn", "sdk"].map((name) => plugins[name]!.pid);
    const children = await Promise.all(["plain", "stubborn", "sdk"].map((name) => childPid(child(name))));
    // Each child runs in its plugin's process group.
    expect(children.map((pid) => processStat(pid)?.pgid)).toEqual(groups);
    const watchdog = watchdogOf(server.pid!);

    server.kill("SIGKILL");
    await server;
    await until(() => (groups.every((pgid) => groupMembers(pgid)?.length === 0) ? true : undefined), "every plugin group to be empty", 15_000);
    expect([...groups, ...children].filter(alive)).toEqual([]);
    // Its work done, the watchdog is gone too.
    expect(watchdog).toEqual(expect.any(Number));
    await until(() => (alive(watchdog!) ? undefined : true), "the watchdog to exit");
  }, 60_000);

  it("whose watchdog died with it: the next host stops the leftovers, children of a plugin that exited included", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qntx-orphans-"));
    dirs.push(dir);
    const configFile = join(dir, "am.plugins.toml");
    const childFile = join(dir, "sdk.child");
    writeFileSync(configFile, `${await hostTable(dir)}\n`
      + table("rawfake", FAKE_PLUGIN_PATH, ["--scenario", "ok", "--name", "rawfake"])
      + table("sdk", JOB_PLUGIN_PATH, ["--name", "sdk", "--spawn-child", childFile]));

    const first = await startServer(dir, configFile);
    const raw = first.plugins.rawfake!.pid;
    const sdk = first.plugins.sdk!.pid;
    const child = await childPid(childFile);
    leftovers.push(child);
    // Both at once, the watchdog first (as `kill -9` of a whole service would).
    const firstWatchdog = watchdogOf(first.server.pid!);
    if (firstWatchdog !== undefined) process.kill(firstWatchdog, "SIGKILL");
    first.server.kill("SIGKILL");
    await first.server;

    // The SDK plugin notices its host is gone and exits by itself; its child stays, in its group.
    await until(() => (alive(sdk) ? undefined : true), "the SDK plugin to exit after its host died", 10_000);
    expect(alive(child)).toBe(true);
    expect(processStat(child)?.pgid).toBe(sdk);
    // A plugin without that watch is still there.
    expect(alive(raw)).toBe(true);

    const second = await startServer(dir, configFile);
    await until(() => (alive(raw) || alive(child) ? undefined : true), "the next host to stop the orphans");
    expect(second.plugins.rawfake!.pid).not.toBe(raw);
    const watchdog = watchdogOf(second.server.pid!);
    expect(watchdog).toEqual(expect.any(Number));

    second.server.kill("SIGTERM");
    expect((await second.server).exitCode).toBe(0);
    expect(processesWithArgs(["--name", "rawfake"])).toEqual([]);
    expect(alive(second.plugins.sdk!.pid)).toBe(false);
    // A clean stop removes the pid file and lets the watchdog go.
    expect(readdirSync(join(dir, "data")).filter((f) => /^plugins-.*\.pid$/.test(f))).toEqual([]);
    await until(() => (alive(watchdog!) ? undefined : true), "the watchdog to exit at a clean stop");
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

/**
 * A plugin's process group whose leader has exited, as a dead host left it: a detached `sh`
 * (the "plugin", leading its own session and group) starts `sleep 300` and exits once told to.
 * Resolves with the group and the record the host would have written.
 */
async function leftoverGroup(env: Record<string, string>): Promise<{ pgid: number; member: number; record: Record<string, unknown> }> {
  const leader: ChildProcess = spawn("sh", ["-c", "sleep 300 & echo $!; read _"], { detached: true, stdio: ["pipe", "pipe", "ignore"], env });
  leftovers.push(leader.pid!);
  const member = Number(await new Promise<string>((resolve) => leader.stdout!.once("data", (d: Buffer) => resolve(d.toString()))));
  const identity = processIdentity(leader.pid!)!;
  const record = { name: "gone", pid: leader.pid, pgid: leader.pid, startTime: identity.startTime, cmdline: identity.cmdline };
  const exited = new Promise((resolve) => leader.once("exit", resolve));
  leader.stdin!.end();
  await exited;
  await until(() => (processStat(member)?.pgid === leader.pid && !alive(leader.pid!) ? true : undefined), "only the member to be left");
  return { pgid: leader.pid!, member, record };
}

/** A pid that belonged to a process that has exited (a dead host). */
async function deadPid(): Promise<number> {
  const dead = spawn("true");
  await new Promise((resolve) => dead.once("exit", resolve));
  return dead.pid!;
}

describe("sweepOrphans, a plugin that exited but left children in its group", () => {
  it("stops what is left of the group when a member carries the dead host's QNTX_HOST_PID", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qntx-sweep-"));
    dirs.push(dir);
    const host = await deadPid();
    const { member, record } = await leftoverGroup({ ...process.env, QNTX_HOST_PID: String(host) } as Record<string, string>);
    writeFileSync(join(dir, "plugins-1.pid"), JSON.stringify({ host: { pid: host, startTime: "1" }, plugins: [record] }));
    const result = await sweepOrphans(dir, 500);
    expect(result.killed.map((r) => r.name)).toEqual(["gone"]);
    await until(() => (alive(member) ? undefined : true), "the leftover child to be stopped");
  });

  it("leaves a group no member proves to be ours: pgid reused, started too early, or another host's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qntx-sweep-"));
    dirs.push(dir);
    const host = await deadPid();
    const ours = { ...process.env, QNTX_HOST_PID: String(host) } as Record<string, string>;
    // Without the entry (a process group that someone else made with the same number).
    const stranger = await leftoverGroup({ ...process.env, QNTX_HOST_PID: "" } as Record<string, string>);
    // With it, but started before the plugin recorded (it cannot be the group we recorded).
    const early = await leftoverGroup(ours);
    const earlyRecord = { ...early.record, name: "early", startTime: String(Number(early.record.startTime) + 100_000) };
    writeFileSync(join(dir, "plugins-2.pid"), JSON.stringify({ host: { pid: host, startTime: "1" }, plugins: [{ ...stranger.record, name: "stranger" }, earlyRecord] }));
    // The host's pid now belongs to a live process (this one) that started before the members:
    // they may be its children, so its pid in their environment proves nothing.
    const reusedHost = await leftoverGroup({ ...process.env, QNTX_HOST_PID: String(process.pid) } as Record<string, string>);
    writeFileSync(join(dir, "plugins-3.pid"), JSON.stringify({ host: { pid: process.pid, startTime: "1" }, plugins: [{ ...reusedHost.record, name: "reused-host" }] }));

    const result = await sweepOrphans(dir, 500);
    expect(result.killed).toEqual([]);
    expect(result.reused.map((r) => r.name).sort()).toEqual(["early", "reused-host", "stranger"]);
    expect([stranger.member, early.member, reusedHost.member].every(alive)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("touches nothing recorded in an earlier boot", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qntx-sweep-"));
    dirs.push(dir);
    const host = await deadPid();
    const mine = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
    leftovers.push(mine.pid!);
    await until(() => (processIdentity(mine.pid!)?.cmdline.startsWith("sleep") ? true : undefined), "sleep to exec");
    const me = processIdentity(mine.pid!)!;
    // Same pid, start time and command line — but counted from another boot.
    writeFileSync(join(dir, "plugins-4.pid"), JSON.stringify({
      host: { pid: host, startTime: "1", bootId: "another-boot" },
      plugins: [{ name: "mine", pid: mine.pid, pgid: mine.pid, startTime: me.startTime, cmdline: me.cmdline }],
    }));
    const result = await sweepOrphans(dir, 500);
    expect(result.killed).toEqual([]);
    expect(alive(mine.pid!)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });
});
