/**
 * Plugin logs: every line a spawned plugin prints reaches its ring buffer (served by
 * `GET /api/plugins/<name>/logs`, SSE, admin token required) and `<data_dir>/logs/<name>.log`
 * (rotated by size), across restarts; `qntx plugin logs` prints them; and a plugin flooding
 * 100 MB of output stalls neither itself, nor other plugins, nor the host.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execa, type ResultPromise } from "execa";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { Writable } from "node:stream";
import { RingBuffer } from "../src/logs/ring-buffer.js";
import { RotatingFileWriter } from "../src/logs/rotating-writer.js";
import { PluginLineLogger, parsePluginLine } from "../src/plugin/plugin-log.js";
import { CLI, adminHeaders, fakePluginTable, hostTable, http, startTestHost, until, type TestHost } from "./harness.js";

const FLOOD_PLUGIN = fileURLToPath(new URL("./fixtures/flood-plugin.mjs", import.meta.url));
const LINE_CAP = 16 * 1024;

interface Entry {
  time: number;
  stream: string;
  level: string;
  line: string;
}

/** TOML table of a plugin spawned from the flood fixture. */
function floodTable(name: string): string {
  return `[plugins.${name}]\nbinary = ${JSON.stringify(FLOOD_PLUGIN)}\nargs = ${JSON.stringify(["--name", name])}\n`;
}

/** Parses complete SSE blocks out of `buffer`; returns the events and what is left. */
function parseEvents(buffer: string): { events: { event: string; data: unknown }[]; rest: string } {
  const events: { event: string; data: unknown }[] = [];
  let rest = buffer;
  for (let end = rest.indexOf("\n\n"); end !== -1; end = rest.indexOf("\n\n")) {
    const block = rest.slice(0, end);
    rest = rest.slice(end + 2);
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
    }
    if (data.length) events.push({ event, data: JSON.parse(data.join("\n")) });
  }
  return { events, rest };
}

/** The backlog of a plugin's log (no follow): status, entries, and whether `end` came. */
async function backlog(t: { url: string; dir: string }, name: string, query = "", headers: Record<string, string> = adminHeaders(t)) {
  const response = await fetch(`${t.url}/api/plugins/${name}/logs${query}`, { headers });
  const text = await response.text();
  if (!response.ok) return { status: response.status, entries: [] as Entry[], ended: false, body: JSON.parse(text) as { error: string; hint?: string } };
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  const { events } = parseEvents(text);
  return {
    status: response.status,
    entries: events.filter((e) => e.event === "line").map((e) => e.data as Entry),
    ended: events.at(-1)?.event === "end",
    body: undefined,
  };
}

const lines = (entries: Entry[]) => entries.map((e) => e.line);

describe("plugin logs", () => {
  let t: TestHost;

  beforeAll(async () => {
    t = await startTestHost(`${floodTable("talk")}\n${fakePluginTable("quiet", "ok")}\n[plugins.clock]\nbuiltin = "clock"\n`, {
      // This file runs beside the flood: generous start budgets keep a slow restart from failing it.
      ready_timeout_ms: 15_000,
      port_line_timeout_ms: 5_000,
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it("keeps each line in the ring with its stream and level, and a start marker", async () => {
    const { status, entries, ended } = await backlog(t, "talk");
    expect(status).toBe(200);
    expect(ended).toBe(true);
    const find = (line: string) => entries.find((e) => e.line === line);
    expect(find("hello from stdout")).toMatchObject({ stream: "stdout", level: "info" });
    expect(find("careful on stderr")).toMatchObject({ stream: "stderr", level: "warn" });
    expect(entries.find((e) => e.line.includes('"json error"'))).toMatchObject({ stream: "stderr", level: "error" });
    expect(entries[0]).toMatchObject({ stream: "qntx", level: "info" });
    expect(entries[0]!.line).toMatch(/^--- started \(pid \d+\) ---$/);
    expect(entries.some((e) => e.line.startsWith("QNTX_PLUGIN_PORT="))).toBe(false);
    expect(entries.every((e) => typeof e.time === "number" && Math.abs(Date.now() - e.time) < 60_000)).toBe(true);
  });

  it("writes the same lines to <data_dir>/logs/<name>.log", async () => {
    const file = join(t.dir, "data", "logs", "talk.log");
    const text = await until(() => {
      const content = existsSync(file) ? readFileSync(file, "utf8") : "";
      return content.includes("careful on stderr") ? content : undefined;
    }, "talk.log");
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdout info hello from stdout$/m);
    expect(text).toMatch(/^\S+Z stderr warn careful on stderr$/m);
    expect(text).toMatch(/^\S+Z stderr error \{"level":"error","msg":"json error"\}$/m);
    expect(text).toMatch(/^\S+Z qntx info --- started \(pid \d+\) ---$/m);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("sends the last N lines with ?lines=N (default 100), and rejects a bad N", async () => {
    expect((await http(`${t.url}/api/talk/say?text=numbered&count=120`)).status).toBe(200);
    await until(async () => (lines((await backlog(t, "talk", "?lines=1")).entries)[0] === "numbered 120" ? true : undefined), "numbered 120 in the ring");
    expect(lines((await backlog(t, "talk", "?lines=3")).entries)).toEqual(["numbered 118", "numbered 119", "numbered 120"]);
    const byDefault = (await backlog(t, "talk")).entries;
    expect(byDefault).toHaveLength(100);
    expect(byDefault.at(-1)!.line).toBe("numbered 120");
    expect((await backlog(t, "talk", "?lines=0")).entries).toEqual([]);
    const bad = await backlog(t, "talk", "?lines=lots");
    expect(bad.status).toBe(400);
    expect(bad.body!.error).toContain("lines");
  });

  it("answers 404 for an unknown plugin and 401 without the admin token", async () => {
    const unknown = await backlog(t, "ghost");
    expect(unknown.status).toBe(404);
    expect(unknown.body!.error).toContain('no plugin named "ghost"');
    const noToken = await backlog(t, "talk", "", {});
    expect(noToken.status).toBe(401);
    expect(noToken.body!.hint).toContain("admin.token");
    expect((await backlog(t, "talk", "", { authorization: "Bearer not-the-token" })).status).toBe(401);
    expect((await backlog(t, "ghost", "", {})).status).toBe(401);
  });

  it("serves an empty log for a plugin that printed nothing (built-in)", async () => {
    const clock = await backlog(t, "clock");
    expect(clock.status).toBe(200);
    expect(clock.entries).toEqual([]);
    expect(clock.ended).toBe(true);
  });

  it("follows: a line printed after subscribing arrives live, stderr included", async () => {
    const abort = new AbortController();
    const response = await fetch(`${t.url}/api/plugins/talk/logs?lines=0&follow=1`, { headers: adminHeaders(t), signal: abort.signal });
    expect(response.status).toBe(200);
    const seen: Entry[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      try {
        for await (const chunk of response.body!) {
          const parsed = parseEvents(buffer + decoder.decode(chunk, { stream: true }));
          buffer = parsed.rest;
          for (const e of parsed.events) if (e.event === "line") seen.push(e.data as Entry);
        }
      } catch {
        // Aborted below.
      }
    })();
    try {
      // Headers arrived, so the subscription is in place: nothing older comes (lines=0).
      expect((await http(`${t.url}/api/talk/say?text=live-line`)).status).toBe(200);
      expect((await http(`${t.url}/api/talk/say?text=live-error&stream=stderr`)).status).toBe(200);
      await until(() => (seen.some((e) => e.line === "live-error") ? true : undefined), "the live lines on the SSE stream");
      expect(seen.map((e) => [e.stream, e.line])).toEqual([["stdout", "live-line"], ["stderr", "live-error"]]);
    } finally {
      abort.abort();
      await reading;
    }
  });

  it("keeps the same log across a restart, with exit and restart markers", async () => {
    const restart = await http(`${t.url}/api/plugins/talk/restart`, { method: "POST", headers: adminHeaders(t) });
    expect({ status: restart.status, body: restart.status === 200 ? "" : restart.text }).toEqual({ status: 200, body: "" });
    const entries = await until(async () => {
      const all = (await backlog(t, "talk", "?lines=1000")).entries;
      return lines(all).filter((l) => l === "hello from stdout").length === 2 ? all : undefined;
    }, "the second run's first line");
    const text = lines(entries);
    const firstPid = /^--- started \(pid (\d+)\) ---$/.exec(text[0]!)![1];
    const restarted = text.findIndex((l) => /^--- restarted \(pid \d+\) ---$/.test(l));
    expect(restarted).toBeGreaterThan(text.indexOf("numbered 120"));
    expect(text[restarted]).not.toContain(`pid ${firstPid})`);
    // The old run's end is marked with its pid (it may land just after the restart marker).
    await until(async () => (lines((await backlog(t, "talk", "?lines=1000")).entries).some((l) => new RegExp(`^--- pid ${firstPid} exited \\((exit code \\d+|killed by SIG\\w+)\\) ---$`).test(l)) ? true : undefined), "the exit marker of the first run");
    expect(text.lastIndexOf("hello from stdout")).toBeGreaterThan(restarted);
  });

  it("still logs plugin lines under the plugin's name in the host log", () => {
    const mine = t.logs.filter((l) => l.plugin === "talk");
    expect(mine.some((l) => l.msg === "hello from stdout" && l.level === 30)).toBe(true);
    expect(mine.some((l) => l.msg === "careful on stderr" && l.level === 40)).toBe(true);
    expect(mine.some((l) => l.msg === "json error" && l.level === 50)).toBe(true);
  });
});

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

describe("qntx plugin logs", () => {
  let dir: string;
  let configFile: string;
  let server: ResultPromise;
  let url: string;
  const env = () => ({ QNTX_HOME: join(dir, "home") });
  const token = () => readFileSync(join(dir, "data", "admin.token"), "utf8").trim();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "qntx-logs-cli-"));
    configFile = join(dir, "am.plugins.toml");
    writeFileSync(configFile, `${await hostTable(dir)}\n${floodTable("clilogs")}\n`);
    server = execa(process.execPath, [CLI, "server", "--config", configFile], { reject: false, buffer: false, env: { QNTX_LOG_LEVEL: "warn" } });
    server.stdout!.resume();
    server.stderr!.resume();
    const hostFile = join(dir, "data", "host.json");
    url = await until(() => (existsSync(hostFile) ? (JSON.parse(readFileSync(hostFile, "utf8")) as { url: string }).url : undefined), "host.json");
    await until(async () => ((await http(`${url}/api/clilogs/ping`)).text === "pong" ? true : undefined), "clilogs running");
    expect((await http(`${url}/api/clilogs/say?text=cli-line&count=10`)).status).toBe(200);
    await until(async () => {
      const { entries } = await backlog({ url, dir }, "clilogs", "?lines=1", { authorization: `Bearer ${token()}` });
      return entries[0]?.line === "cli-line 10" ? true : undefined;
    }, "cli-line 10 in the ring");
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill("SIGTERM");
      await server;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the last --lines N lines as <time> <stream> <line> and exits 0", async () => {
    const result = await execa(process.execPath, [CLI, "plugin", "logs", "clilogs", "--lines", "5", "--config", configFile], { reject: false, env: env() });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    const printed = result.stdout.split("\n");
    expect(printed).toHaveLength(5);
    expect(printed[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdout cli-line 6$/);
    expect(printed[4]).toMatch(/Z stdout cli-line 10$/);
  });

  it("--follow prints new lines until interrupted", async () => {
    const follower = execa(process.execPath, [CLI, "plugin", "logs", "clilogs", "--follow", "--lines", "0", "--config", configFile], { reject: false, env: env(), buffer: false });
    let out = "";
    follower.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
    follower.stderr!.resume();
    try {
      // Until the follower has subscribed, a line is missed; so say it until it shows up.
      await until(async () => {
        await http(`${url}/api/clilogs/say?text=followed&stream=stderr`);
        return out.includes("followed") ? true : undefined;
      }, "the followed line on the CLI's stdout");
      expect(out.split("\n")[0]).toMatch(/^\S+Z stderr followed$/);
      expect(follower.exitCode).toBeNull();
    } finally {
      follower.kill("SIGINT");
      await follower;
    }
  });

  it("fails with the reason for an unknown plugin", async () => {
    const result = await execa(process.execPath, [CLI, "plugin", "logs", "ghost", "--config", configFile], { reject: false, env: env() });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('no plugin named "ghost"');
  });
});
