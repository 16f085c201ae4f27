/**
 * writeFileAtomicSync: what host.json, admin.token and plugin config files are written with.
 * A reader in another process sees the old content or the new, never a part; a failed write
 * leaves the old file and no temp file behind.
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomicSync } from "../src/atomic-file.js";
import { until } from "./harness.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "qntx-atomic-"));
  dirs.push(dir);
  return dir;
}

/** One whole version of the file the reader test writes: `size` bytes of padding of `fill`. */
const version = (fill: string, size: number): string => JSON.stringify({ url: `http://127.0.0.1/${fill}`, pad: fill.repeat(size) });

// Reads "file" in a tight loop until "stop" appears: prints "ready" after its first read, then at
// the end how many reads it made and the lengths of contents that were neither whole version.
const READER = `
const { existsSync, readFileSync } = require("node:fs");
const version = ${version.toString()};
const [file, stop] = process.argv.slice(1);
const a = version("a", 200000), b = version("b", 300000);
let reads = 0;
const bad = new Set();
while (!existsSync(stop)) {
  const text = readFileSync(file, "utf8");
  reads++;
  if (text !== a && text !== b) bad.add(text.length);
  if (reads === 1) process.stdout.write("ready\\n");
}
console.log(JSON.stringify({ reads, bad: [...bad] }));
`;

describe("writeFileAtomicSync", () => {
  it("writes the whole content with the exact mode asked for, replacing the old file", () => {
    const file = join(scratch(), "token");
    writeFileSync(file, "old\n");
    const umask = process.umask(0o077);
    try {
      writeFileAtomicSync(file, "new\n", { mode: 0o640, durable: true });
    } finally {
      process.umask(umask);
    }
    expect(readFileSync(file, "utf8")).toBe("new\n");
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });

  it("never shows a reader in another process a part of the file", async () => {
    const dir = scratch();
    const file = join(dir, "host.json");
    const stop = join(dir, "stop");
    // Large enough that a plain write takes several syscalls' worth of time to land.
    const a = version("a", 200_000);
    const b = version("b", 300_000);
    writeFileAtomicSync(file, a);
    const reader = spawn(process.execPath, ["-e", READER, file, stop], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    reader.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => reader.on("exit", resolve));
    // The writes begin once the reader is reading (its start-up can take a while on a busy machine).
    await until(() => (out.startsWith("ready\n") ? true : undefined), "the reader to start", 20_000);
    const endAt = Date.now() + 1_000;
    let writes = 0;
    while (Date.now() < endAt) {
      writeFileAtomicSync(file, writes % 2 === 0 ? b : a);
      writes++;
      if (writes % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    writeFileSync(stop, "");
    expect(await exited).toBe(0);
    const result = JSON.parse(out.slice("ready\n".length)) as { reads: number; bad: number[] };
    expect(writes).toBeGreaterThan(50);
    expect(result.reads).toBeGreaterThan(50);
    expect(result.bad).toEqual([]);
  });

  it("leaves the old file and no temp file when the write fails", () => {
    const dir = scratch();
    // A directory where the file should go: the rename fails (EISDIR), after the temp was written.
    const target = join(dir, "host.json");
    mkdirSync(target);
    writeFileSync(join(target, "inside"), "kept");
    expect(() => writeFileAtomicSync(target, "{}")).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(readdirSync(dir)).toEqual(["host.json"]);
    expect(readFileSync(join(target, "inside"), "utf8")).toBe("kept");
  });
});
