/**
 * The pieces under plugin logs (the ring buffer, the rotating file writer that drops lines
 * rather than buffer them, the rate-limited line logger) and log files rotated by size.
 */
import { describe, expect, it } from "@jest/globals";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Writable } from "node:stream";
import { RingBuffer } from "../src/logs/ring-buffer.js";
import { RotatingFileWriter } from "../src/logs/rotating-writer.js";
import { PluginLineLogger, parsePluginLine } from "../src/plugin/plugin-log.js";
import { adminHeaders, http, startTestHost, until } from "./harness.js";
import { backlog, floodTable, lines } from "./helpers/plugin-logs.js";

describe("building blocks", () => {
  it("RingBuffer keeps the last `capacity` items, oldest first", () => {
    const ring = new RingBuffer<number>(3);
    expect(ring.last()).toEqual([]);
    for (let i = 1; i <= 5; i++) ring.push(i);
    expect(ring.size).toBe(3);
    expect(ring.last()).toEqual([3, 4, 5]);
    expect(ring.last(2)).toEqual([4, 5]);
    expect(ring.last(10)).toEqual([3, 4, 5]);
    expect(ring.last(0)).toEqual([]);
  });

  it("RotatingFileWriter drops lines while behind instead of buffering them, then writes one marker", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qntx-writer-"));
    try {
      const writer = new RotatingFileWriter({ path: join(dir, "x.log"), maxBytes: 1 << 30, files: 1, highWaterMark: 1024, dropMarker: (n) => `dropped ${n}\n` });
      let accepted = 0;
      // All in one tick: nothing can be flushed in between, so the writer is behind after ~1 KiB.
      for (let i = 0; i < 1000; i++) if (writer.write(`line ${i} ${"y".repeat(50)}\n`)) accepted++;
      expect(accepted).toBeLessThan(100);
      expect(writer.droppedCount).toBe(1000 - accepted);
      await until(() => (writer.droppedCount === 0 ? true : undefined), "the marker after the drain");
      await writer.close();
      const text = readFileSync(join(dir, "x.log"), "utf8").split("\n").filter(Boolean);
      expect(text).toHaveLength(accepted + 1);
      expect(text.at(-1)).toBe(`dropped ${1000 - accepted}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("PluginLineLogger passes 100 lines a second to the host log, then one summary", async () => {
    const logged: { level: number; msg: string; suppressed?: number }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString("utf8").split("\n")) if (line) logged.push(JSON.parse(line));
        callback();
      },
    });
    const limiter = new PluginLineLogger(pino(sink), 100);
    for (let i = 0; i < 1000; i++) limiter.log(parsePluginLine(`line ${i}`, "info"));
    await until(() => (logged.some((l) => l.suppressed !== undefined) ? true : undefined), "the summary line", 3000);
    expect(logged.filter((l) => l.msg.startsWith("line "))).toHaveLength(100);
    expect(logged.find((l) => l.suppressed !== undefined)).toMatchObject({ level: 40, suppressed: 900 });
    limiter.flush();
  });
});

describe("log files", () => {
  it("rotate at log_max_bytes, keeping at most log_files old files", async () => {
    const r = await startTestHost(floodTable("rot"), { log_max_bytes: 4096, log_files: 2 });
    try {
      const dir = join(r.dir, "data", "logs");
      const padded = `rotation-line-${"x".repeat(80)}`;
      // Several separate bursts: each rotation finishes (the old file is flushed) between them.
      await until(async () => {
        await http(`${r.url}/api/rot/say?text=${padded}&count=40`);
        return existsSync(join(dir, "rot.log.2")) ? true : undefined;
      }, "rot.log.2");
      for (let i = 0; i < 5; i++) await http(`${r.url}/api/rot/say?text=${padded}&count=40`);
      await until(async () => (lines((await backlog(r, "rot", "?lines=1")).entries)[0] === `${padded} 40` ? true : undefined), "the last burst in the ring");
      const files = readdirSync(dir).filter((f) => f.startsWith("rot.log")).sort();
      expect(files).toEqual(["rot.log", "rot.log.1", "rot.log.2"]);
      for (const f of ["rot.log.1", "rot.log.2"]) {
        const size = statSync(join(dir, f)).size;
        expect(size).toBeGreaterThan(0);
        expect(size).toBeLessThanOrEqual(4096 + 200);
      }
      expect(readFileSync(join(dir, "rot.log.1"), "utf8")).toMatch(/^\S+Z stdout info rotation-line-x+ \d+$/m);

      // A follower does not keep a stopping host open: its stream ends.
      const follower = await fetch(`${r.url}/api/plugins/rot/logs?lines=0&follow=1`, { headers: adminHeaders(r) });
      const ended = follower.text();
      await r.close();
      expect(await ended).toContain(": open");
    } finally {
      await r.close();
    }
  });
});
