/**
 * Plugin logs: every line a spawned plugin prints reaches its ring buffer (served by
 * `GET /api/plugins/<name>/logs`, SSE, admin token required) and `<data_dir>/logs/<name>.log`,
 * across restarts, and the host log under the plugin's name.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { adminHeaders, fakePluginTable, http, startTestHost, until, type TestHost } from "./harness.js";
import { backlog, floodTable, lines, parseEvents, type Entry } from "./helpers/plugin-logs.js";

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
