/**
 * The pid file of spawned plugins: changes are written together, off the event loop, by
 * rename (never a half-written file), and a host's clean stop removes it even while a write
 * is under way. The SIGKILLed-host sweep itself is in orphans.test.ts.
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PidFile, sweepOrphans } from "../src/plugin/pid-file.js";
import { procfsTable } from "../src/plugin/process-table.js";
import { until } from "./harness.js";

const processIdentity = procfsTable.identity;
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "qntx-pidfile-"));
  dirs.push(dir);
  return dir;
}

/** `n` real processes that have exec'd (so /proc shows their own command line). */
async function sleepers(n: number): Promise<number[]> {
  const started = Array.from({ length: n }, () => spawn("sleep", ["60"], { stdio: "ignore" }));
  children.push(...started);
  const pids = started.map((c) => c.pid!);
  await until(() => (pids.every((pid) => processIdentity(pid)?.cmdline.startsWith("sleep")) ? true : undefined), "sleeps to exec");
  return pids;
}

const read = (path: string) => JSON.parse(readFileSync(path, "utf8")) as { host: { pid: number }; plugins: { name: string; pid: number; startTime: string; cmdline: string }[] };

describe("PidFile", () => {
  it("writes a burst of starts once, after the turn, with each process's identity", async () => {
    const dir = tempDir();
    const path = join(dir, "plugins-1.pid");
    const file = new PidFile(path);
    const pids = await sleepers(3);
    pids.forEach((pid, i) => file.add(`p${i}`, pid));
    // Nothing written synchronously: the event loop is not held by the file system.
    expect(existsSync(path)).toBe(false);
    await file.flushed();
    expect(file.writes).toBe(1);
    const content = read(path);
    expect(content.host.pid).toBe(process.pid);
    expect(content.plugins.map((p) => [p.name, p.pid])).toEqual(pids.map((pid, i) => [`p${i}`, pid]));
    for (const p of content.plugins) {
      const now = processIdentity(p.pid)!;
      expect([p.startTime, p.cmdline]).toEqual([now.startTime, now.cmdline]);
    }

    file.remove("p1");
    file.remove("nobody"); // not recorded: no write
    await file.flushed();
    expect(read(path).plugins.map((p) => p.name)).toEqual(["p0", "p2"]);
    expect(file.writes).toBe(2);
    // Only the pid file itself is left: the temp file was renamed over it.
    expect(readdirSync(dir)).toEqual(["plugins-1.pid"]);
  });

  it("changes made while a write is under way are written right after it", async () => {
    const dir = tempDir();
    const path = join(dir, "plugins-2.pid");
    const file = new PidFile(path);
    const [a, b] = await sleepers(2);
    file.add("a", a!);
    // Let the first write start, then change the records while it runs.
    await new Promise((resolve) => setImmediate(resolve));
    file.add("b", b!);
    await file.flushed();
    expect(read(path).plugins.map((p) => p.name)).toEqual(["a", "b"]);
  });

  it("delete() removes the file even with a write pending, and later changes write nothing", async () => {
    const dir = tempDir();
    const path = join(dir, "plugins-3.pid");
    const file = new PidFile(path);
    const [a] = await sleepers(1);
    file.add("a", a!);
    await file.delete();
    expect(readdirSync(dir)).toEqual([]);
    file.add("b", a!);
    await file.flushed();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("reports a failed write and writes again at the next change", async () => {
    const dir = tempDir();
    const path = join(dir, "missing", "plugins-4.pid");
    const errors: unknown[] = [];
    const file = new PidFile(path, (error) => errors.push(error));
    const [a] = await sleepers(1);
    file.add("a", a!);
    await file.flushed();
    expect(errors).toHaveLength(1);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe("ENOENT");
    mkdirSync(join(dir, "missing"));
    file.remove("a");
    file.add("a", a!);
    await file.flushed();
    expect(read(path).plugins.map((p) => p.name)).toEqual(["a"]);
  });
});

describe("sweepOrphans and temp files", () => {
  it("removes the temp file a killed host left mid-write, keeps a live host's", async () => {
    const dir = tempDir();
    const dead = spawn("true");
    await new Promise((resolve) => dead.once("exit", resolve));
    writeFileSync(join(dir, `plugins-5.pid.${dead.pid}.tmp`), "{\"host\":");
    writeFileSync(join(dir, `plugins-6.pid.${process.pid}.tmp`), "{\"host\":");
    await sweepOrphans(dir, 100);
    expect(readdirSync(dir)).toEqual([`plugins-6.pid.${process.pid}.tmp`]);
  });
});
