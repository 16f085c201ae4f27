/**
 * A plugin flooding 100 MB of output stalls neither itself, nor other plugins, nor the host;
 * memory stays bounded and lines are capped.
 */
import { describe, expect, it } from "@jest/globals";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { adminHeaders, fakePluginTable, http, startTestHost, until } from "./harness.js";
import { backlog, floodTable, LINE_CAP, lines } from "./helpers/plugin-logs.js";

describe("flooding", () => {
  it("100 MB of plugin output stalls no request, keeps memory bounded and lines capped", async () => {
    const f = await startTestHost(`${floodTable("flood")}\n${fakePluginTable("calm", "ok")}`);
    try {
      const rssBefore = process.memoryUsage().rss;
      let rssMax = rssBefore;
      let maxLatency = 0;
      let requests = 0;
      const failures: string[] = [];
      const timed = async (path: string, expected: number, init?: RequestInit) => {
        const started = performance.now();
        const response = await http(`${f.url}${path}`, init);
        maxLatency = Math.max(maxLatency, performance.now() - started);
        requests++;
        if (response.status !== expected) failures.push(`${path}: ${response.status} ${response.text.slice(0, 200)}`);
        return response;
      };

      const started = Date.now();
      await timed("/api/flood/flood?mb=100", 202);
      let status: { bytes: number; done: boolean; ms: number } = { bytes: 0, done: false, ms: 0 };
      while (!status.done) {
        const [floodPing, calmPing] = await Promise.all([
          timed("/api/flood/ping", 200), timed("/api/calm/ping", 200), timed("/api/plugins", 200),
          timed("/api/plugins/flood/logs?lines=5", 200, { headers: adminHeaders(f) }),
        ]);
        expect(floodPing.text).toBe("pong");
        expect(calmPing.text).toBe("pong");
        status = (await timed("/api/flood/flood-status", 200)).json();
        rssMax = Math.max(rssMax, process.memoryUsage().rss);
        if (Date.now() - started > 25_000) throw new Error(`flood not done after 25 s (${status.bytes} bytes written)`);
      }
      // The plugin has written everything; the host has read it all once the last line is in the ring.
      const entries = await until(async () => {
        rssMax = Math.max(rssMax, process.memoryUsage().rss);
        const all = (await backlog(f, "flood", "?lines=1000")).entries;
        return all.at(-1)?.line.startsWith("flood done") ? all : undefined;
      }, "the flood's last line in the ring");
      const elapsed = Date.now() - started;
      const growthMb = (rssMax - rssBefore) / 1024 / 1024;
      console.log(`flood: ${status.bytes} bytes written in ${status.ms} ms (read by the host within ${elapsed} ms); ${requests} requests during it, max latency ${maxLatency.toFixed(0)} ms; host RSS growth ${growthMb.toFixed(1)} MB`);

      expect(failures).toEqual([]);
      expect(status.bytes).toBeGreaterThanOrEqual(100 * 1024 * 1024);
      expect(growthMb).toBeLessThan(300);
      // The ring holds the last 1000 lines, long ones capped at 16 KiB.
      expect(entries).toHaveLength(1000);
      const truncated = entries.filter((e) => e.line.endsWith("…[truncated]"));
      expect(truncated.length).toBeGreaterThan(0);
      for (const e of entries) expect(Buffer.byteLength(e.line)).toBeLessThanOrEqual(LINE_CAP + Buffer.byteLength("…[truncated]"));
      expect(truncated[0]!.line).toBe(`${"L".repeat(LINE_CAP)}…[truncated]`);
      // The host log got a trickle, not the flood: a rate-limited few lines and "suppressed" notes.
      // The note comes when the rate limiter's second ends: a flood read within one second has
      // not had it yet when the ring holds the last line.
      await until(() => (f.logs.some((l) => l.plugin === "flood" && /^suppressed \d+ lines of plugin output/.test(l.msg)) ? true : undefined), "the suppressed-lines note");
      const hostLines = f.logs.filter((l) => l.plugin === "flood");
      expect(hostLines.length).toBeLessThan(200 * Math.ceil(elapsed / 1000 + 2));
      // The file writer kept up or dropped with a marker; either way the files stay within their budget.
      const logDir = join(f.dir, "data", "logs");
      const files = readdirSync(logDir).filter((n) => n.startsWith("flood.log"));
      expect(files.length).toBeLessThanOrEqual(4);
      const onDisk = files.reduce((sum, n) => sum + statSync(join(logDir, n)).size, 0);
      const markers = files.reduce((sum, n) => sum + (readFileSync(join(logDir, n), "latin1").match(/\[qntx: dropped \d+ lines/g)?.length ?? 0), 0);
      console.log(`flood log files: ${files.length} files, ${onDisk} bytes on disk, ${markers} "dropped" markers`);
      // The other plugin is still fine afterwards.
      expect((await http(`${f.url}/api/calm/ping`)).text).toBe("pong");
    } finally {
      await f.close();
    }
  }, 45_000);
});
