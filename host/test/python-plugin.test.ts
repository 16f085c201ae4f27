/**
 * The Python example plugin (examples/python-plugin, Debian's python3-grpcio, no SDK) driven
 * through a real host: metadata and config, HTTP routes, notes written and read through the
 * host's ATSStoreService, the `wordcount` Pulse handler (result, live progress, logs, failure
 * with the Python error), a WebSocket echo, crash and restart, stop. Then the process contract
 * with the plugin spawned directly: busy port, Shutdown, SIGTERM, host death.
 *
 * Needs the example's toolchain (`sh examples/python-plugin/toolchain.sh command` prints the
 * apt-get line) and `pnpm build` (which generates the stubs into gen/); without the toolchain
 * the file is skipped with one printed reason, or fails under CI=true (helpers/toolchain.ts).
 * What happens without it is tested in python-toolchain.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { HTTPRequest, InitializeRequest, PluginClient } from "@qntx/protocol";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { adminHeaders, freePort, http, processesWithArgs, startTestHost, until, type TestHost } from "./harness.js";
import { killAndWait, settledWithin } from "./helpers/events.js";
import { within } from "./helpers/plugin-client.js";
import { pulseApi } from "./helpers/pulse-api.js";
import { describeWithPython } from "./helpers/toolchain.js";

const RUN_SH = fileURLToPath(new URL("../../examples/python-plugin/run.sh", import.meta.url));
const PLUGIN_PY = fileURLToPath(new URL("../../examples/python-plugin/plugin.py", import.meta.url));
const STUBS = fileURLToPath(new URL("../../examples/python-plugin/gen/domain_pb2_grpc.py", import.meta.url));

let t: TestHost;

const { enqueue, job, waitFor } = pulseApi(() => t);

function post(path: string, body: unknown): ReturnType<typeof http> {
  return http(`${t.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

describeWithPython(import.meta.url, "the Python example (examples/python-plugin)", () => {
  beforeAll(async () => {
    if (!existsSync(STUBS)) throw new Error(`${STUBS} is missing although the toolchain is here: run \`pnpm build\` (examples/python-plugin/gen.sh)`);
    t = await startTestHost(`[plugins.pyplug]\nbinary = ${JSON.stringify(RUN_SH)}\nconfig = { greeting = "Howdy" }\n`, {
      restart_backoff_base_ms: 100,
    });
    const info = t.host.registry.get("pyplug");
    if (info?.state !== "running") throw new Error(`pyplug did not start: ${JSON.stringify(info)}\n${t.logs.map((l) => JSON.stringify(l)).join("\n")}`);
  });

  afterAll(async () => {
    await t?.close();
  });

  describe("the Python plugin in a host", () => {
    it("starts: name, version and state as the host lists them", async () => {
      const { plugins } = (await http(`${t.url}/api/plugins`)).json();
      const py = plugins.find((p: { name: string }) => p.name === "pyplug");
      expect(py).toMatchObject({ name: "pyplug", version: "0.1.0", state: "running" });
      expect(t.host.registry.get("pyplug")!.pid).toBeGreaterThan(0);
      // Its JSON log lines keep their level and message.
      expect(t.logs.some((l) => l.msg === "listening" && l.level === 30)).toBe(true);
    });

    it("answers GET /api/pyplug/hello with the configured greeting", async () => {
      const res = await http(`${t.url}/api/pyplug/hello?name=x`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(res.json()).toMatchObject({ message: "Howdy, x!", plugin: "pyplug", language: "python" });
    });

    it("lists its routes and answers an unknown one with a JSON 404, a wrong method with 405", async () => {
      const { routes } = (await http(`${t.url}/api/plugins/routes`)).json();
      expect(JSON.stringify(routes)).toContain("/api/pyplug/notes");
      const missing = await http(`${t.url}/api/pyplug/nope`);
      expect(missing.status).toBe(404);
      expect(missing.json().error).toContain("/nope");
      const wrong = await http(`${t.url}/api/pyplug/hello`, { method: "DELETE" });
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get("allow")).toBe("GET");
    });

    it("stores a note as an attestation through the host's ATSStoreService and reads it back", async () => {
      const created = await post("/api/pyplug/notes", { subject: "py-subject", text: "written from python" });
      expect(created.status).toBe(201);
      const { id } = created.json();
      expect(id).toMatch(/^AS-py-subject-note-pyplug-[a-z0-9]{8}$/);

      const listed = await http(`${t.url}/api/pyplug/notes?subject=py-subject`);
      expect(listed.status).toBe(200);
      expect(listed.json().notes).toEqual([expect.objectContaining({ id, subject: "py-subject", text: "written from python", source: "pyplug" })]);

      const { attestations } = (await http(`${t.url}/api/attestations?predicate=note`)).json();
      expect(attestations).toEqual(expect.arrayContaining([
        expect.objectContaining({ id, subjects: ["py-subject"], predicates: ["note"], contexts: ["pyplug"], source: "pyplug" }),
      ]));
      expect(attestations.find((a: { id: string }) => a.id === id).attributes).toMatchObject({ text: "written from python" });
    });

    it("answers a bad note body with 400 and keeps serving", async () => {
      const bad = await http(`${t.url}/api/pyplug/notes`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
      expect(bad.status).toBe(400);
      expect(bad.json().error).toMatch(/not JSON/);
      const missing = await post("/api/pyplug/notes", { subject: "s" });
      expect(missing.status).toBe(400);
      expect(missing.json().error).toContain("text");
      expect((await http(`${t.url}/api/pyplug/hello`)).status).toBe(200);
    });

    it("runs pyplug/wordcount as a Pulse job: result, progress, cost, logs, plugin version", async () => {
      const queued = await enqueue({ handler: "pyplug/wordcount", payload: { text: "the quick brown fox\njumps over the lazy dog\nThe end" } });
      const done = await waitFor(queued.id, ["completed", "failed"]);
      expect(done.status).toBe("completed");
      expect(done.result).toMatchObject({ words: 11, lines: 3, unique: 9 });
      expect(done.result.top[0]).toEqual({ word: "the", count: 3 });
      expect(done.progress).toEqual({ current: 3, total: 3 });
      expect(done.costActual).toBeCloseTo(0.0011);
      expect(done.pluginVersion).toBe("0.1.0");
      expect(done.logs).toEqual(expect.arrayContaining([
        expect.objectContaining({ stage: "start", level: "info" }),
        expect.objectContaining({ stage: "done", message: "counted 11 word(s)" }),
      ]));
    });

    it("routes the bare name wordcount to pyplug", async () => {
      const queued = await enqueue({ handler: "wordcount", payload: { text: "one two" } });
      expect(queued.handler).toBe("pyplug/wordcount");
      expect((await waitFor(queued.id, ["completed"])).result).toMatchObject({ words: 2 });
    });

    it("reports progress live through QueueService.UpdateJob while the job runs", async () => {
      const text = Array.from({ length: 8 }, (_, i) => `line ${i}`).join("\n");
      const queued = await enqueue({ handler: "pyplug/wordcount", payload: { text, delay_ms: 250 } });
      const midway = await until(async () => {
        const j = await job(queued.id);
        return j.status === "running" && j.progress.current > 0 && j.progress.current < 8 ? j : undefined;
      }, "progress while running");
      expect(midway.progress.total).toBe(8);
      const done = await waitFor(queued.id, ["completed"]);
      expect(done.progress).toEqual({ current: 8, total: 8 });
    });

    it("fails a job with the Python error message", async () => {
      const queued = await enqueue({ handler: "pyplug/wordcount", payload: { text: 42 }, max_attempts: 1 });
      const done = await waitFor(queued.id, ["failed"]);
      expect(done.error).toContain("ValueError: payload.text must be a string, got int");
      expect(done.pluginVersion).toBe("0.1.0");
      // The plugin's warn line kept its level.
      expect(t.logs.some((l) => l.msg === "job failed" && l.level === 40)).toBe(true);
    });

    it("echoes WebSocket DATA frames through /ws/pyplug", async () => {
      const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/ws/pyplug`);
      const received: Array<{ type: number | string; data: string }> = [];
      ws.on("message", (raw) => received.push(JSON.parse(raw.toString())));
      await new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
      });
      for (const text of ["hello", "from the browser"]) ws.send(JSON.stringify({ type: "DATA", data: Buffer.from(text).toString("base64") }));
      // A PING from the browser reaches the plugin, whose PONG stays with the host: no frame back.
      ws.send(JSON.stringify({ type: "PING" }));
      await until(() => (received.length >= 2 ? true : undefined), "two echoed frames");
      expect(received.map((f) => [f.type, Buffer.from(f.data, "base64").toString()])).toEqual([[1, "hello"], [1, "from the browser"]]);
      const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
      ws.close(1000);
      expect(await closed).toBe(1000);
      expect(received).toHaveLength(2);
    });

    it("is restarted by the host after a SIGKILL", async () => {
      const pid = t.host.registry.get("pyplug")!.pid!;
      process.kill(pid, "SIGKILL");
      const info = await until(() => {
        const now = t.host.registry.get("pyplug")!;
        return now.state === "running" && now.pid && now.pid !== pid ? now : undefined;
      }, "pyplug to run again with a new pid");
      expect(processesWithArgs([PLUGIN_PY])).toContain(info.pid);
      expect((await http(`${t.url}/api/pyplug/hello?name=again`)).json().message).toBe("Howdy, again!");
    });

    it("stops through the control API: Shutdown, the process is gone, routes answer 503", async () => {
      const pid = t.host.registry.get("pyplug")!.pid!;
      const res = await http(`${t.url}/api/plugins/pyplug/stop`, { method: "POST", headers: adminHeaders(t), body: "{}" });
      expect(res.status).toBe(200);
      expect(t.host.registry.get("pyplug")!.state).toBe("stopped");
      await until(() => (processesWithArgs([PLUGIN_PY]).includes(pid) ? undefined : true), "the plugin process to exit");
      // It stopped on the Shutdown RPC (before any signal) and said so.
      expect(t.logs.some((l) => l.msg === "stopping" && JSON.stringify(l).includes("Shutdown RPC"))).toBe(true);
      const after = await http(`${t.url}/api/pyplug/hello`);
      expect(after.status).toBe(503);
    });
  });

  /** The plugin spawned by hand, as a host would: `run.sh --port N`, stdout read for the port line. */
  class Spawned {
    readonly child: ChildProcess;
    readonly port: Promise<number>;
    readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    stderr = "";

    constructor(port: number, env: Record<string, string> = {}) {
      this.child = spawn(RUN_SH, ["--port", String(port)], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
      this.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
      this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
      this.port = new Promise((resolve, reject) => {
        let out = "";
        this.child.stdout!.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /^QNTX_PLUGIN_PORT=(\d+)$/m.exec(out);
          if (match) resolve(Number(match[1]));
        });
        void this.exited.then(({ code }) => reject(new Error(`plugin exited (${code}) before its port line: ${this.stderr}`)));
      });
    }

    /** Exit status within `ms`, or undefined. */
    async exitWithin(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
      return settledWithin(this.exited, ms);
    }

    kill(): Promise<void> {
      return killAndWait(this.child);
    }
  }

  describe("the process contract, spawned directly", () => {
    const spawned: Spawned[] = [];
    const servers: Server[] = [];
    afterAll(async () => {
      await Promise.all(spawned.map((s) => s.kill()));
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    });

    function start(port: number, env: Record<string, string> = {}): Spawned {
      const s = new Spawned(port, env);
      spawned.push(s);
      return s;
    }

    it("skips a busy port, announces the one it bound, and stops on Shutdown with exit code 0", async () => {
      const busy = await freePort();
      const blocker = createServer();
      servers.push(blocker);
      await new Promise<void>((resolve) => blocker.listen(busy, "127.0.0.1", resolve));
      const plugin = start(busy);
      const port = await plugin.port;
      expect(port).toBeGreaterThan(busy);
      expect(port).toBeLessThan(busy + 64);

      const client = new PluginClient(`127.0.0.1:${port}`);
      try {
        const metadata = await client.metadata(within(10_000));
        expect(metadata).toMatchObject({ name: "pyplug", version: "0.1.0" });
        await client.shutdown(within(10_000));
      } finally {
        client.close();
      }
      expect(await plugin.exitWithin(5000)).toEqual({ code: 0, signal: null });
      // Logs are JSON lines with a level.
      for (const line of plugin.stderr.trim().split("\n")) expect(JSON.parse(line)).toHaveProperty("level");
    });

    it("answers 502 with the host's error when the store refuses its token, and keeps serving", async () => {
      const plugin = start(await freePort());
      const client = new PluginClient(`127.0.0.1:${await plugin.port}`);
      try {
        await client.initialize(InitializeRequest.fromPartial({ atsStoreEndpoint: t.host.servicesAddress, authToken: "not-the-token" }), within(10_000));
        const body = Buffer.from(JSON.stringify({ subject: "s", text: "t" }));
        const refused = await client.handleHTTP(HTTPRequest.fromPartial({ method: "POST", path: "/api/pyplug/notes", body }), within(10_000));
        expect(refused.statusCode).toBe(502);
        expect(JSON.parse(Buffer.from(refused.body).toString()).error).toBe("invalid authentication token");
        const hello = await client.handleHTTP(HTTPRequest.fromPartial({ method: "GET", path: "/hello?name=direct" }), within(10_000));
        expect(hello.statusCode).toBe(200);
        expect(JSON.parse(Buffer.from(hello.body).toString()).message).toBe("Hello, direct!");
      } finally {
        client.close();
      }
    });

    it("exits 0 on SIGTERM", async () => {
      const plugin = start(await freePort());
      await plugin.port;
      plugin.child.kill("SIGTERM");
      expect(await plugin.exitWithin(5000)).toEqual({ code: 0, signal: null });
    });

    it("exits by itself when the host in QNTX_HOST_PID dies", async () => {
      const fakeHost = spawn("sleep", ["60"], { stdio: "ignore" });
      const fakeHostGone = new Promise((resolve) => fakeHost.once("exit", resolve));
      const plugin = start(await freePort(), { QNTX_HOST_PID: String(fakeHost.pid) });
      await plugin.port;
      expect(await plugin.exitWithin(1200)).toBeUndefined(); // alive while its host is
      fakeHost.kill("SIGKILL");
      await fakeHostGone;
      expect(await plugin.exitWithin(5000)).toEqual({ code: 0, signal: null });
      expect(plugin.stderr).toContain(`host process ${fakeHost.pid} is gone`);
    });
  });
});
