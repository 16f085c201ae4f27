/**
 * @qntx/sdk/testing with plugins run as real processes: the hello example's built entry, a
 * fixture plugin, and fixtures that misbehave (exit before the port line, never announce,
 * crash mid-call, ignore Shutdown and SIGTERM). Every failure must be a clear error, not a hang.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startTestPlugin, TestPluginError, type TestPlugin } from "../src/testing/index.js";

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const helloMain = fileURLToPath(new URL("../../examples/hello/dist/main.js", import.meta.url));
const sdkDist = fileURLToPath(new URL("../dist/index.js", import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves once `check()` holds, re-checked every 20 ms; rejects after `timeoutMs`. A poll: the
 * processes checked are the SDK's children, not the test's, so no exit event reaches the test.
 */
async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const giveUp = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > giveUp) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(() => {
  for (const file of [sdkDist, helloMain]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`pnpm -r build\` first`);
  }
});

describe("the hello example as a process", () => {
  it("serves routes and commands, and exits 0 on stop", async () => {
    const plugin = await startTestPlugin(helloMain, { config: { greeting: "Hej" }, name: "hello" });
    const pid = plugin.pid!;
    try {
      expect(plugin.mode).toBe("process");
      expect(alive(pid)).toBe(true);
      expect((await plugin.http("GET", "/hello/Ada")).json()).toEqual({ message: "Hej, Ada!" });
      expect((await plugin.http("GET", "/cookies")).headers["set-cookie"]).toEqual(["a=1; Path=/", "b=2; Path=/"]);
      const run = await plugin.command("greet", ["Bob"], { shout: true });
      expect([run.exitCode, run.text()]).toEqual([0, "HEJ, BOB!\n"]);
    } finally {
      await plugin.stop();
    }
    expect(alive(pid)).toBe(false);
  });
});

describe("a fixture plugin process", () => {
  let plugin: TestPlugin;

  beforeAll(async () => {
    plugin = await startTestPlugin(fixture("testing-plugin.mjs"), { config: { greeting: "Hi" }, timeoutMs: 5_000 });
  });

  afterAll(async () => {
    await plugin?.stop();
  });

  it("initializes against the fake host and writes attestations through it", async () => {
    expect(plugin.stderr()).toContain("tproc: initialized with greeting Hi");
    expect((await plugin.http("GET", "/hello")).json()).toEqual({ message: "Hi, world!", pid: plugin.pid });
    const { id } = (await plugin.http("POST", "/notes", { json: { subject: "proc-doc" } })).json<{ id: string }>();
    expect(plugin.host!.attestations.find((a) => a.id === id)).toMatchObject({ subjects: ["proc-doc"], source: "tproc" });
  });

  it("runs a job, a WebSocket session and a command in the process", async () => {
    const run = await plugin.job("count", { to: 2 });
    expect(run).toMatchObject({ success: true, result: { counted: 2 }, pluginVersion: "3.1.0" });
    expect(plugin.host!.job(run.jobId)!.status).toBe("completed");
    const ws = plugin.websocket();
    ws.send("hi");
    expect((await ws.next()).text()).toBe("echo:hi");
    await ws.close();
    expect((await plugin.command("pid")).text()).toBe(`${plugin.pid}\n`);
  });

  it("fails a hung route at the deadline and keeps serving", async () => {
    await expect(plugin.http("GET", "/hang", { timeoutMs: 200 })).rejects.toMatchObject({ code: "CALL_FAILED", httpStatus: 504 });
    expect((await plugin.http("GET", "/hello")).status).toBe(200);
  });
});

describe("plugin processes that crash mid-call", () => {
  it("reports a crash during an HTTP call with the exit code and the last stderr lines", async () => {
    const plugin = await startTestPlugin(fixture("testing-plugin.mjs"));
    try {
      const err = await plugin.http("GET", "/crash").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TestPluginError);
      expect(err).toMatchObject({ code: "PROCESS_EXITED" });
      expect((err as Error).message).toMatch(/^HandleHTTP GET \/crash: the plugin process is gone \(exit code 3\nlast stderr lines:\n/);
      expect((err as Error).message).toContain("tproc: crashing on purpose in /crash");
      // Later calls fail at once with the same story.
      await expect(plugin.health()).rejects.toMatchObject({ code: "PROCESS_EXITED" });
    } finally {
      await plugin.stop();
    }
  });

  it("reports a crash during a job, and ends a WebSocket session when the process dies", async () => {
    const jobs = await startTestPlugin(fixture("testing-plugin.mjs"));
    try {
      const err = await jobs.job("crash").catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "PROCESS_EXITED", message: expect.stringContaining("exit code 4") });
      expect(jobs.host!.jobs.at(-1)).toMatchObject({ handlerName: "tproc/crash", status: "failed" });
    } finally {
      await jobs.stop();
    }
    const sockets = await startTestPlugin(fixture("testing-plugin.mjs"));
    try {
      const ws = sockets.websocket();
      ws.send("crash");
      const end = await ws.ended;
      expect(end.by).toBe("error");
      expect(end.reason).toMatch(/exit code 5|HandleWebSocket failed/);
      await expect(ws.next(100)).rejects.toMatchObject({ code: "WEBSOCKET" });
    } finally {
      await sockets.stop();
    }
  });

  it("kills the plugin's process group on stop, grandchildren included", async () => {
    const plugin = await startTestPlugin(fixture("testing-plugin.mjs"));
    const { child } = (await plugin.http("GET", "/child")).json<{ child: number }>();
    expect(alive(child)).toBe(true);
    await plugin.stop();
    expect(alive(plugin.pid!)).toBe(false);
    await until(() => !alive(child), `grandchild ${child} to be gone`);
  });
});

describe("plugin processes that fail to start or stop", () => {
  it("fails clearly when the process exits before its port line", async () => {
    const err = await startTestPlugin(fixture("testing-exits-early.mjs")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TestPluginError);
    expect(err).toMatchObject({ code: "EXITED_BEFORE_PORT" });
    const message = (err as Error).message;
    expect(message).toMatch(/^plugin process exited before printing QNTX_PLUGIN_PORT=<port> \(exit code 3\): .*testing-exits-early\.mjs --port \d+/);
    expect(message).toContain("last stderr lines:\n  exits-early: loading config\n  exits-early: fatal: cannot open database /nonexistent/db.sqlite");
  });

  it("gives up on a process that never announces its port, and kills it", async () => {
    // The budget is the wait itself (nothing announces "no line will come"); long enough for the
    // fixture to print its stdout line on a busy machine, which the message must then show.
    const err = await startTestPlugin(fixture("testing-silent.mjs"), { startTimeoutMs: 3_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "NO_PORT_LINE" });
    const message = (err as Error).message;
    expect(message).toMatch(/printed no QNTX_PLUGIN_PORT=<port> line on stdout within 3000 ms \(killed it\)/);
    expect(message).toContain("its stdout:\n  silent: listening somewhere, not telling");
    const pid = Number(/silent: pid (\d+)/.exec(message)?.[1]);
    expect(pid).toBeGreaterThan(0);
    await until(() => !alive(pid), `silent plugin ${pid} to be gone`);
  });

  it("fails clearly when the announced port serves nothing, and kills the process", async () => {
    const err = await startTestPlugin(fixture("testing-liar.mjs"), { timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CALL_FAILED", grpcCode: 14 });
    const message = (err as Error).message;
    expect(message).toMatch(/^Metadata failed: UNAVAILABLE: /);
    expect(message).toContain("last stderr lines:\n  liar: pid ");
    const pid = Number(/liar: pid (\d+)/.exec(message)?.[1]);
    expect(pid).toBeGreaterThan(0);
    await until(() => !alive(pid), `liar plugin ${pid} to be gone`);
  });

  it("fails clearly for a missing file", async () => {
    await expect(startTestPlugin(fixture("no-such-plugin.mjs"))).rejects.toMatchObject({ code: "SPAWN_FAILED", message: expect.stringContaining("does not exist") });
    await expect(startTestPlugin("/bin/definitely-not-a-plugin-here", { command: ["/nonexistent/interpreter"] })).rejects.toMatchObject({ code: "SPAWN_FAILED", message: expect.stringContaining("ENOENT") });
  });

  it("stops a plugin that ignores Shutdown and SIGTERM within the stop bound", async () => {
    const plugin = await startTestPlugin(fixture("testing-stubborn.mjs"), { stopTimeoutMs: 300 });
    const pid = plugin.pid!;
    expect((await plugin.http("GET", "/pid")).json()).toEqual({ pid });
    await plugin.stop();
    expect(alive(pid)).toBe(false);
  });

  it("runs a TypeScript plugin file through tsx", async () => {
    await using plugin = await startTestPlugin(fixture("testing-ts-plugin.ts"), { startTimeoutMs: 20_000 });
    expect((await plugin.http("GET", "/typed")).json()).toEqual({ ts: true, path: "/typed" });
  });
});
