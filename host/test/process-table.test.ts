/**
 * The portable process table (`signals`: no /proc), forced on Linux: alive → dead of real
 * processes, stopping a real process group, and the orphan sweep degrading as documented in
 * docs/operating.md — it keeps a live host's file and kills nothing it cannot identify. Last, a
 * real host run with `QNTX_PROCESS_TABLE=signals`.
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import { execa, type ResultPromise } from "execa";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { terminateGroup } from "../src/plugin/os-process.js";
import { PidFile, sweepOrphans } from "../src/plugin/pid-file.js";
import { procfsTable, selectProcessTable, signalsTable } from "../src/plugin/process-table.js";
import { CLI, FAKE_PLUGIN_PATH, JOB_PLUGIN_PATH, hostTable, http, until } from "./harness.js";

const dirs: string[] = [];
const groups: number[] = [];
const servers: ResultPromise[] = [];

afterAll(() => {
  for (const server of servers) if (server.exitCode === null) server.kill("SIGKILL");
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // gone, as it should be
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "qntx-ptable-"));
  dirs.push(dir);
  return dir;
}

/** A `sh -c script` leading its own process group, killed after the tests whatever happens. */
async function group(script: string): Promise<ChildProcess> {
  const child = spawn("/bin/sh", ["-c", script], { detached: true, stdio: "ignore" });
  await new Promise((resolve, reject) => child.once("spawn", resolve).once("error", reject));
  groups.push(child.pid!);
  return child;
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn("/bin/true");
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}

describe("choosing the table", () => {
  it("is procfs on Linux, signals when forced", () => {
    expect(selectProcessTable({}).kind).toBe("procfs");
    expect(selectProcessTable({ QNTX_PROCESS_TABLE: "signals" })).toBe(signalsTable);
  });
});

describe("the signals table", () => {
  it("sees a real process alive, then dead, and knows nothing else about it", async () => {
    const child = await group("exec sleep 30");
    const pid = child.pid!;
    expect(signalsTable.alive(pid)).toBe(true);
    expect([signalsTable.identity(pid), signalsTable.stat(pid), signalsTable.groupMembers(pid), signalsTable.bootId()]).toEqual([undefined, undefined, undefined, undefined]);
    expect(signalsTable.environmentHas(pid, `PATH=${process.env.PATH}`)).toBe(false);
    process.kill(pid, "SIGSTOP");
    await until(() => (procfsTable.isStopped(pid) ? true : undefined), "the process to stop");
    // Stopped processes cannot be told apart: callers then wait out SIGTERM's grace.
    expect(signalsTable.isStopped(pid)).toBe(false);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(pid, "SIGKILL");
    await exited;
    expect(signalsTable.alive(pid)).toBe(false);
  });

  it("stops a whole process group, a child that ignores SIGTERM included", async () => {
    const leader = await group("trap '' TERM; sleep 30 & wait");
    await until(() => (procfsTable.groupMembers(leader.pid!)!.length >= 2 ? true : undefined), "the group's child to start");
    await terminateGroup(leader.pid!, 300, signalsTable);
    await until(() => (procfsTable.groupMembers(leader.pid!)!.length === 0 ? true : undefined), "the group to be empty");
  });
});

describe("the orphan sweep without /proc", () => {
  it("records plugins without identity, and leaves a running host's file alone", async () => {
    const dir = tempDir();
    const file = new PidFile(join(dir, "plugins-1.pid"), undefined, signalsTable);
    const plugin = await group("exec sleep 30");
    file.add("p", plugin.pid!);
    await file.flushed();
    const written = JSON.parse(readFileSync(join(dir, "plugins-1.pid"), "utf8"));
    expect(written.plugins).toEqual([{ name: "p", pid: plugin.pid, pgid: plugin.pid }]);
    expect(written.host).toEqual({ pid: process.pid });
    await file.delete();
    // A host recorded without start time runs while its pid answers.
    const otherHost = await group("exec sleep 30");
    writeFileSync(join(dir, "plugins-2.pid"), JSON.stringify({ host: { pid: otherHost.pid }, plugins: [{ name: "q", pid: plugin.pid, pgid: plugin.pid }] }));
    const result = await sweepOrphans(dir, 200, signalsTable);
    expect(result).toEqual({ killed: [], reused: [], unverified: [] });
    expect(existsSync(join(dir, "plugins-2.pid"))).toBe(true);
  });

  it("kills nothing of a dead host's plugins it cannot identify, and removes the file", async () => {
    const dir = tempDir();
    const running = await group("exec sleep 30");
    const identity = procfsTable.identity(running.pid!);
    const gone = await deadPid();
    const host = { pid: await deadPid(), startTime: "1" };
    // One record as a Linux host writes it (start time and all), one as a host without /proc does.
    const plugins = [
      { name: "linux-record", pid: running.pid, pgid: running.pid, startTime: identity?.startTime, cmdline: identity?.cmdline },
      { name: "plain-record", pid: running.pid, pgid: running.pid },
      { name: "gone", pid: gone, pgid: gone },
    ];
    writeFileSync(join(dir, "plugins-3.pid"), JSON.stringify({ host, plugins }));
    const result = await sweepOrphans(dir, 200, signalsTable);
    expect(result.killed).toEqual([]);
    expect(result.unverified.map((r) => r.name)).toEqual(["linux-record", "plain-record"]);
    expect(signalsTable.alive(running.pid!)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("a host run with QNTX_PROCESS_TABLE=signals", () => {
  it("runs and stops its plugins, has no watchdog, and leaves a killed host's orphans to the user", async () => {
    const dir = tempDir();
    const configFile = join(dir, "am.plugins.toml");
    writeFileSync(configFile, `${await hostTable(dir)}\n[plugins.raw]\nbinary = ${JSON.stringify(FAKE_PLUGIN_PATH)}\nargs = ["--scenario", "ok", "--name", "raw"]\n\n`
      + `[plugins.sdk]\nbinary = ${JSON.stringify(JOB_PLUGIN_PATH)}\nargs = ["--name", "sdk"]\n`);
    const start = async (): Promise<{ server: ResultPromise; log: () => string; pids: Record<string, number> }> => {
      rmSync(join(dir, "data", "host.json"), { force: true });
      const server = execa(process.execPath, [CLI, "server", "--config", configFile], { reject: false, buffer: false, env: { QNTX_PROCESS_TABLE: "signals", QNTX_LOG_LEVEL: "warn" } });
      servers.push(server);
      let log = "";
      server.stdout!.on("data", (chunk: Buffer) => (log += chunk.toString()));
      server.stderr!.resume();
      const hostFile = join(dir, "data", "host.json");
      const url = await until(() => (existsSync(hostFile) ? (JSON.parse(readFileSync(hostFile, "utf8")) as { url: string }).url : undefined), "host.json");
      const list = await until(async () => {
        const { plugins } = (await http(`${url}/api/plugins`)).json() as { plugins: { name: string; pid: number; state: string }[] };
        return plugins.every((p) => p.state === "running") ? plugins : undefined;
      }, "plugins running");
      for (const p of list) groups.push(p.pid);
      return { server, log: () => log, pids: Object.fromEntries(list.map((p) => [p.name, p.pid])) };
    };

    const first = await start();
    await until(() => (first.log().includes("no host watchdog here") ? true : undefined), "the no-watchdog warning");
    first.server.kill("SIGKILL");
    await first.server;
    // The SDK plugin watches QNTX_HOST_PID and exits by itself; the raw one lives on.
    await until(() => (signalsTable.alive(first.pids.sdk!) ? undefined : true), "the SDK plugin to exit after its host died", 10_000);
    expect(signalsTable.alive(first.pids.raw!)).toBe(true);

    const second = await start();
    await until(() => (second.log().includes("cannot be proven ours without /proc") ? true : undefined), "the unverified warning");
    expect(second.log()).toContain(`raw (pid ${first.pids.raw})`);
    expect(signalsTable.alive(first.pids.raw!)).toBe(true);
    second.server.kill("SIGTERM");
    expect((await second.server).exitCode).toBe(0);
    expect([second.pids.raw, second.pids.sdk].map((pid) => procfsTable.alive(pid!))).toEqual([false, false]);
  }, 60_000);
});
