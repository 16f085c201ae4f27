/**
 * A plugin that stops answering: SIGSTOPped (state T: it can act on no signal but SIGKILL) or
 * its event loop blocked (its SIGTERM handler never runs). Once its Health goes unanswered it
 * gets no new requests, WebSockets or jobs — 503 at once instead of each waiting out its
 * deadline — and the restart after health_failures misses does not wait out
 * shutdown_timeout_ms, nor does a person's stop of a stopped plugin. The shutdown timeout is
 * set far above the tests' own timeouts, so waiting it out fails them.
 */
import { afterAll, afterEach, describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { pino } from "pino";
import WebSocket from "ws";
import { procfsTable } from "../src/plugin/process-table.js";
import { PluginProcess, terminateGroup } from "../src/plugin/process.js";
import { adminHeaders, fakePluginTable, http, jobPluginTable, startTestHost, until, type TestHost } from "./harness.js";
import { pluginHealth } from "./helpers/events.js";

const { stat: processStat, isStopped } = procfsTable;

/** Far above every `until` below: a test that waits for it times out. */
const SHUTDOWN_NEVER_MS = 120_000;

const hosts: TestHost[] = [];
const stopped: number[] = [];
async function host(plugins: string, settings: Record<string, string | number>): Promise<TestHost> {
  const t = await startTestHost(plugins, { restart_backoff_base_ms: 100, restart_backoff_max_ms: 500, shutdown_timeout_ms: SHUTDOWN_NEVER_MS, ...settings });
  hosts.push(t);
  return t;
}

/** SIGSTOPs `pid`, remembering it so that it is continued (and can be stopped) whatever happens. */
function freeze(pid: number): void {
  stopped.push(pid);
  process.kill(pid, "SIGSTOP");
}

afterEach(async () => {
  for (const pid of stopped.splice(0)) {
    try {
      process.kill(pid, "SIGCONT");
    } catch {
      // gone
    }
  }
  await Promise.all(hosts.splice(0).map((t) => t.close()));
});
afterAll(async () => {
  await Promise.all(hosts.splice(0).map((t) => t.close()));
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return processStat(pid)?.state !== "Z";
  } catch {
    return false;
  }
}

/**
 * Resolves once `n` more Health calls of `name` have gone unanswered (read from the health
 * snapshot the control API shows: each check has its own time).
 */
function missedChecks(t: TestHost, name: string, n: number): Promise<true> {
  const seen = new Set<number>();
  return until(() => {
    const health = t.host.registry.get(name)!.health;
    if (health && !health.answered) seen.add(health.checkedAt);
    return seen.size >= n ? true : undefined;
  }, `${n} missed health checks of ${name}`);
}

/** The answer to a WebSocket upgrade that is refused (status, headers, body). */
function refusedUpgrade(url: string): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => {
      ws.terminate();
      reject(new Error("the upgrade was accepted"));
    });
    ws.once("unexpected-response", (_request, response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, retryAfter: response.headers["retry-after"] as string | undefined, body }));
    });
    ws.once("error", () => undefined);
  });
}

describe("a plugin whose Health goes unanswered", () => {
  it("gets 503 'not answering' with Retry-After for HTTP and WebSocket at once, and serves again when it answers", async () => {
    // Never restarted here (health_failures is out of reach): only availability is under test.
    const t = await host(fakePluginTable("frozen", "ok") + fakePluginTable("fine", "ok"), { health_interval_ms: 300, health_failures: 1000, request_timeout_ms: 60_000 });
    const pid = t.host.registry.get("frozen")!.pid!;
    expect((await http(`${t.url}/api/frozen/ping`)).text).toBe("pong");
    freeze(pid);
    await missedChecks(t, "frozen", 1);
    // Each request would otherwise hang for request_timeout_ms (60 s, beyond this wait).
    const res = await http(`${t.url}/api/frozen/ping`, { signal: AbortSignal.timeout(20_000) });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("2");
    expect(res.json().error).toMatch(/^plugin frozen is not answering \(\d+ health checks? missed\)$/);
    expect(res.json().state).toBe("running");
    const ws = await refusedUpgrade(`${t.url.replace(/^http/, "ws")}/ws/frozen`);
    expect(ws.status).toBe(503);
    expect(ws.retryAfter).toBe("2");
    expect(JSON.parse(ws.body).error).toMatch(/^plugin frozen is not answering \(\d+ health checks? missed\)$/);
    // The others are untouched.
    expect((await http(`${t.url}/api/fine/ping`)).text).toBe("pong");

    process.kill(pid, "SIGCONT");
    await pluginHealth(t.host.registry, "frozen", (health) => health.answered, "a health check answered again");
    expect((await http(`${t.url}/api/frozen/ping`)).text).toBe("pong");
    expect(t.host.registry.get("frozen")!.pid).toBe(pid);
  }, 60_000);

  it("has none of its jobs claimed until it answers again", async () => {
    const t = await host(jobPluginTable("sleepy"), { health_interval_ms: 300, health_failures: 1000 });
    const pid = t.host.registry.get("sleepy")!.pid!;
    freeze(pid);
    await missedChecks(t, "sleepy", 1);
    const enqueued = await http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify({ handler: "sleepy/echo", payload: { n: 1 } }) });
    const id = enqueued.json().job.id as string;
    // Several health rounds (and Pulse's 1 s fallback poll) go by with the plugin still hung.
    await missedChecks(t, "sleepy", 5);
    const waiting = (await http(`${t.url}/api/pulse/jobs/${id}`)).json().job;
    expect(waiting.status).toBe("queued");
    expect(waiting.attempts).toBe(0);

    process.kill(pid, "SIGCONT");
    const done = await until(async () => {
      const job = (await http(`${t.url}/api/pulse/jobs/${id}`)).json().job;
      return job.status === "completed" ? job : undefined;
    }, "the job to run once the plugin answers");
    expect(done.result).toEqual({ n: 1 });
    expect(done.attempts).toBe(1);
  }, 60_000);
});

describe("a hung plugin is restarted without waiting out shutdown_timeout_ms", () => {
  it("SIGSTOPped: SIGKILL at once", async () => {
    const t = await host(fakePluginTable("frozen", "ok"), { health_interval_ms: 300, health_failures: 2 });
    const pid = t.host.registry.get("frozen")!.pid!;
    freeze(pid);
    const info = await until(() => {
      const p = t.host.registry.get("frozen")!;
      return p.state === "running" && p.pid !== pid ? p : undefined;
    }, "frozen to be restarted", 30_000);
    expect(alive(pid)).toBe(false);
    expect((await http(`${t.url}/api/frozen/ping`)).text).toBe("pong");
    expect(info.pid).toEqual(expect.any(Number));
    expect(t.logs.some((l) => l.plugin === "frozen" && /stopped answering Health/.test(l.msg))).toBe(true);
  }, 60_000);

  it("its event loop blocked (its SIGTERM handler never runs): SIGKILL after a short grace", async () => {
    const t = await host(jobPluginTable("blocker"), { health_interval_ms: 300, health_failures: 2 });
    const pid = t.host.registry.get("blocker")!.pid!;
    await http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify({ handler: "blocker/block", max_attempts: 1 }) });
    await until(() => {
      const p = t.host.registry.get("blocker")!;
      return p.state === "running" && p.pid !== pid ? p : undefined;
    }, "blocker to be restarted", 30_000);
    expect(alive(pid)).toBe(false);
  }, 60_000);

  it("a person's stop of a SIGSTOPped plugin neither waits for Shutdown nor for shutdown_timeout_ms", async () => {
    // No health checks in the way: the stop itself must cope.
    const t = await host(fakePluginTable("frozen", "ok"), { health_interval_ms: 600_000 });
    const pid = t.host.registry.get("frozen")!.pid!;
    freeze(pid);
    const res = await http(`${t.url}/api/plugins/frozen/stop`, { method: "POST", headers: adminHeaders(t), signal: AbortSignal.timeout(30_000) });
    expect(res.json().plugin.state).toBe("stopped");
    expect(alive(pid)).toBe(false);
  }, 60_000);

  it("a person's stop of a plugin whose loop is blocked neither waits for Shutdown nor for shutdown_timeout_ms", async () => {
    // Never restarted by the health checks here: the stop itself must cope.
    const t = await host(jobPluginTable("blocker"), { health_interval_ms: 300, health_failures: 1000 });
    const pid = t.host.registry.get("blocker")!.pid!;
    await http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify({ handler: "blocker/block", max_attempts: 1 }) });
    await missedChecks(t, "blocker", 1);
    const res = await http(`${t.url}/api/plugins/blocker/stop`, { method: "POST", headers: adminHeaders(t), signal: AbortSignal.timeout(30_000) });
    expect(res.json().plugin.state).toBe("stopped");
    expect(alive(pid)).toBe(false);
  }, 60_000);
});

describe("stopping a stopped process directly", () => {
  const logger = pino({ level: "silent" });

  it("PluginProcess.stop SIGKILLs it at once instead of waiting out the grace", async () => {
    const script = `console.log("QNTX_PLUGIN_PORT=1"); process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000);`;
    const { process: proc } = await PluginProcess.spawn({
      name: "stopped", command: { command: process.execPath, args: ["-e", script, "--"], path: "<inline script>" }, port: 1, args: [], env: {}, cwd: undefined,
      portLineTimeoutMs: 10_000, logger,
    });
    freeze(proc.pid);
    await until(() => (isStopped(proc.pid) ? true : undefined), "the process to be stopped");
    const exit = await Promise.race([proc.stop(SHUTDOWN_NEVER_MS), new Promise<undefined>((resolve) => setTimeout(resolve, 30_000, undefined))]);
    expect(exit?.signal).toBe("SIGKILL");
  }, 60_000);

  it("terminateGroup SIGKILLs a group with a stopped member at once", async () => {
    const leader = spawn("sh", ["-c", "sleep 300 & echo $!; wait"], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
    const member = Number(await new Promise<string>((resolve) => leader.stdout!.once("data", (d: Buffer) => resolve(d.toString()))));
    freeze(member);
    await until(() => (isStopped(member) ? true : undefined), "the member to be stopped");
    const ended = await Promise.race([terminateGroup(leader.pid!, SHUTDOWN_NEVER_MS).then(() => true), new Promise<false>((resolve) => setTimeout(resolve, 30_000, false))]);
    expect(ended).toBe(true);
    expect(alive(member)).toBe(false);
  }, 60_000);
});
