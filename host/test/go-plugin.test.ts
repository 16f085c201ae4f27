/**
 * The Go example plugin (examples/go-plugin: QNTX's guide plugin on the Go SDK, sdk-go/) driven
 * through a real host: metadata, config and logs, HTTP routes registered in the guide's full
 * form reached by the host's stripped path, notes written and read through the host's
 * ATSStoreService, the `attest` Pulse job (progress live and in the answer, an attestation
 * written, cancellation, failure), a WebSocket echo and a plugin-side close, cobra commands
 * through the CLI, a crash and the restart, a stop. Then the process contract with the binary
 * spawned directly: SIGTERM and the death of the host in QNTX_HOST_PID.
 *
 * Needs the Go toolchain (`sh sdk-go/toolchain.sh command` prints the apt-get line) and
 * `pnpm build` (which builds examples/go-plugin/bin/goplug); without the toolchain the file is
 * skipped with one printed reason, or fails under CI=true (helpers/go-toolchain.ts). What
 * happens without it is tested in go-toolchain.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execa } from "execa";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { adminHeaders, CLI, freePort, http, processesWithArgs, startTestHost, until, type TestHost } from "./harness.js";
import { killAndWait, settledWithin } from "./helpers/events.js";
import { describeWithGo, GO_EXAMPLE_DIR } from "./helpers/go-toolchain.js";
import { pulseApi } from "./helpers/pulse-api.js";

const RUN_SH = join(GO_EXAMPLE_DIR, "run.sh");
const BINARY = join(GO_EXAMPLE_DIR, "bin", "goplug");

let t: TestHost;

const { enqueue, job, waitFor } = pulseApi(() => t);

async function attestations(query: string): Promise<Array<Record<string, any>>> {
  return (await http(`${t.url}/api/attestations?${query}`)).json().attestations;
}

/** The fields of a plugin's JSON log line, as the host logs them. */
function pluginFields(line: Record<string, unknown>): Record<string, unknown> {
  return (line.plugin_fields ?? {}) as Record<string, unknown>;
}

/** Runs the real CLI against the test host. */
function qntx(args: string[]) {
  return execa(process.execPath, [CLI, "--data-dir", join(t.dir, "data"), ...args], { reject: false, env: { QNTX_HOST: "" } });
}

describeWithGo(import.meta.url, "the Go example (examples/go-plugin)", () => {
  beforeAll(async () => {
    if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing although the Go toolchain is here: run \`pnpm build\` (examples/go-plugin/build.sh)`);
    t = await startTestHost(`[plugins.goplug]\nbinary = ${JSON.stringify(RUN_SH)}\nconfig = { greeting = "Howdy" }\n`, {
      restart_backoff_base_ms: 100,
    });
    const info = t.host.registry.get("goplug");
    if (info?.state !== "running") throw new Error(`goplug did not start: ${JSON.stringify(info)}\n${t.logs.map((l) => JSON.stringify(l)).join("\n")}`);
  });

  afterAll(async () => {
    await t?.close();
  });

  describe("the Go plugin in a host", () => {
    it("starts: name, version, state, health and routes as the host lists them", async () => {
      const { plugins } = (await http(`${t.url}/api/plugins`)).json();
      const go = plugins.find((p: { name: string }) => p.name === "goplug");
      expect(go).toMatchObject({ name: "goplug", version: "0.1.0", state: "running" });
      expect(t.host.registry.get("goplug")!.pid).toBeGreaterThan(0);
      // zap's JSON lines keep their level and message in the host's log.
      expect(t.logs.some((l) => l.msg === "MyPlugin initialized" && l.level === 30)).toBe(true);
      const { routes } = (await http(`${t.url}/api/plugins/routes`)).json();
      expect(JSON.stringify(routes)).toContain("/api/goplug/notes");
    });

    it("answers GET /api/goplug/hello with the configured greeting, by the guide's full-path route", async () => {
      const res = await http(`${t.url}/api/goplug/hello?name=x`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(res.json()).toEqual({ message: "Howdy, x!", plugin: "goplug", language: "go" });
      const wrong = await http(`${t.url}/api/goplug/hello`, { method: "DELETE" });
      expect([wrong.status, wrong.headers.get("allow")]).toEqual([405, "GET"]);
      const missing = await http(`${t.url}/api/goplug/nope`);
      expect(missing.status).toBe(404);
      expect(missing.json().error).toBe("no route GET /nope");
    });

    it("stores a note as an attestation through the host's ATSStoreService and reads it back", async () => {
      const created = await http(`${t.url}/api/goplug/notes`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ subject: "go-subject", text: "written from go" }),
      });
      expect(created.status).toBe(201);
      const { id } = created.json();
      expect(id).toMatch(/^AS-go-subject-note-goplug-[a-z0-9]{8}$/);
      const listed = (await http(`${t.url}/api/goplug/notes?subject=go-subject`)).json();
      expect(listed.notes).toEqual([expect.objectContaining({ id, subject: "go-subject", text: "written from go", source: "goplug" })]);
      const [stored] = await attestations(`predicate=note&subject=go-subject`);
      expect(stored).toMatchObject({ id, subjects: ["go-subject"], contexts: ["goplug"], source: "goplug" });
      expect(stored!.attributes).toMatchObject({ text: "written from go", source_version: "0.1.0" });
      const bad = await http(`${t.url}/api/goplug/notes`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
      expect(bad.status).toBe(400);
    });

    it("runs goplug/attest as a Pulse job: an attestation written, result, progress, cost, logs, plugin version", async () => {
      const queued = await enqueue({ handler: "goplug/attest", payload: { subject: "job-subject", text: "from a job", steps: 2 } });
      const done = await waitFor(queued.id, ["completed", "failed"]);
      expect(done.status).toBe("completed");
      expect(done.result).toMatchObject({ subject: "job-subject", steps: 2 });
      expect(done.progress).toEqual({ current: 3, total: 3 });
      expect(done.costActual).toBeCloseTo(0.003);
      expect(done.pluginVersion).toBe("0.1.0");
      expect(done.logs).toEqual(expect.arrayContaining([
        expect.objectContaining({ stage: "start", level: "info" }),
        expect.objectContaining({ stage: "done", message: `wrote ${done.result.id}` }),
      ]));
      const [written] = await attestations(`subject=job-subject`);
      expect(written).toMatchObject({ id: done.result.id, predicates: ["note"], source: "goplug" });
      expect(written!.attributes).toMatchObject({ text: "from a job", job_id: queued.id });
    });

    it("reports progress live through QueueService.UpdateJob while the job runs", async () => {
      const queued = await enqueue({ handler: "attest", payload: { subject: "live", text: "t", steps: 8, delay_ms: 250 } });
      expect(queued.handler).toBe("goplug/attest");
      const midway = await until(async () => {
        const j = await job(queued.id);
        return j.status === "running" && j.progress.current > 0 && j.progress.current < 8 ? j : undefined;
      }, "progress while running");
      expect(midway.progress.total).toBe(9);
      expect((await waitFor(queued.id, ["completed"])).progress).toEqual({ current: 9, total: 9 });
    });

    it("stops a cancelled job between steps, before it writes anything", async () => {
      const queued = await enqueue({ handler: "goplug/attest", payload: { subject: "cancelled-subject", text: "t", steps: 40, delay_ms: 250 } });
      await until(async () => ((await job(queued.id)).progress.current > 0 ? true : undefined), "the job to make progress");
      const res = await http(`${t.url}/api/pulse/jobs/${queued.id}/cancel`, { method: "POST", headers: adminHeaders(t), body: "{}" });
      expect(res.status).toBe(200);
      expect((await waitFor(queued.id, ["cancelled"])).status).toBe("cancelled");
      // The handler saw its context end (the plugin logs it), and wrote nothing.
      const stopped = await t.log.waitFor((l) => l.msg === "job stopped" && pluginFields(l).job === queued.id, "the plugin's \"job stopped\"");
      expect(pluginFields(stopped).error).toBe("context canceled");
      expect(await attestations(`subject=cancelled-subject`)).toEqual([]);
    });

    it("fails a job with the plugin's error message", async () => {
      const queued = await enqueue({ handler: "goplug/attest", payload: { subject: "s" }, max_attempts: 1 });
      const done = await waitFor(queued.id, ["failed"]);
      expect(done.error).toContain("payload.subject and payload.text are required");
      expect(done.pluginVersion).toBe("0.1.0");
    });

    it("echoes WebSocket frames through /ws/goplug, and closes with the plugin's own code", async () => {
      const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/ws/goplug`);
      const received: Array<{ type: number; data: string }> = [];
      ws.on("message", (raw) => received.push(JSON.parse(raw.toString())));
      await new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
      });
      for (const text of ["hello", "from the browser"]) ws.send(JSON.stringify({ type: "DATA", data: Buffer.from(text).toString("base64") }));
      await until(() => (received.length >= 2 ? true : undefined), "two echoed frames");
      expect(received.map((f) => [f.type, Buffer.from(f.data, "base64").toString()])).toEqual([[1, "hello"], [1, "from the browser"]]);
      const closed = new Promise<[number, string]>((resolve) => ws.once("close", (code, reason) => resolve([code, reason.toString()])));
      ws.send(JSON.stringify({ type: "DATA", data: Buffer.from("close").toString("base64") }));
      expect(await closed).toEqual([4000, "closed by goplug"]);
    });

    it("runs its cobra commands through `qntx goplug …`: output, flags, exit codes", async () => {
      const greet = await qntx(["goplug", "greet", "you", "--shout", "--times", "2"]);
      expect([greet.exitCode, greet.stdout, greet.stderr]).toEqual([0, "HOWDY, YOU!\nHOWDY, YOU!", ""]);
      const listed = await qntx(["goplug", "notes", "--subject", "go-subject"]);
      expect(listed.exitCode).toBe(0);
      expect(listed.stdout).toMatch(/^AS-go-subject-note-goplug-[a-z0-9]{8}\tgo-subject\twritten from go$/);
      const none = await qntx(["goplug", "notes", "--subject", "nobody"]);
      expect([none.exitCode, none.stdout]).toEqual([3, ""]);
      expect(none.stderr).toContain("Error: no notes on nobody");
      const bad = await qntx(["goplug", "greet", "--times", "11"]);
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toContain("--times must be from 1 to 10, got 11");
      const help = await qntx(["goplug", "--help"]);
      expect(help.stdout).toContain("greet");
      expect(help.stdout).toContain("list the notes stored as attestations");
    });

    it("is restarted by the host after a SIGKILL", async () => {
      const pid = t.host.registry.get("goplug")!.pid!;
      process.kill(pid, "SIGKILL");
      const info = await until(() => {
        const now = t.host.registry.get("goplug")!;
        return now.state === "running" && now.pid && now.pid !== pid ? now : undefined;
      }, "goplug to run again with a new pid");
      expect(processesWithArgs([BINARY])).toContain(info.pid);
      expect((await http(`${t.url}/api/goplug/hello?name=again`)).json().message).toBe("Howdy, again!");
      // Its notes outlived it: they are in the host's store.
      expect((await http(`${t.url}/api/goplug/notes?subject=go-subject`)).json().notes).toHaveLength(1);
    });

    it("stops through the control API: Shutdown, the process is gone, routes answer 503", async () => {
      const pid = t.host.registry.get("goplug")!.pid!;
      const res = await http(`${t.url}/api/plugins/goplug/stop`, { method: "POST", headers: adminHeaders(t), body: "{}" });
      expect(res.status).toBe(200);
      expect(t.host.registry.get("goplug")!.state).toBe("stopped");
      await until(() => (processesWithArgs([BINARY]).includes(pid) ? undefined : true), "the plugin process to exit");
      expect(t.logs.some((l) => l.msg === "stopping" && pluginFields(l).reason === "Shutdown RPC")).toBe(true);
      expect((await http(`${t.url}/api/goplug/hello`)).status).toBe(503);
    });
  });

  describe("the process contract, spawned directly", () => {
    const children: ChildProcess[] = [];
    afterAll(async () => {
      await Promise.all(children.map(killAndWait));
    });

    /** The binary as a host starts it; resolves its port and, later, its exit. */
    function start(port: number, env: Record<string, string> = {}) {
      const child = spawn(BINARY, ["--port", String(port)], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
      children.push(child);
      let stderr = "";
      child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
      const announced = new Promise<number>((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /^QNTX_PLUGIN_PORT=(\d+)$/m.exec(out);
          if (match) resolve(Number(match[1]));
        });
        void exited.then(({ code }) => reject(new Error(`goplug exited (${code}) before its port line: ${stderr}`)));
      });
      return { child, announced, within: (ms: number) => settledWithin(exited, ms), stderr: () => stderr };
    }

    it("exits 0 on SIGTERM, saying why", async () => {
      const plugin = start(await freePort());
      await plugin.announced;
      plugin.child.kill("SIGTERM");
      expect(await plugin.within(5000)).toEqual({ code: 0, signal: null });
      expect(plugin.stderr()).toMatch(/"msg":"stopping","plugin":"goplug","reason":"SIGTERM"/);
    });

    it("exits by itself when the host in QNTX_HOST_PID dies", async () => {
      const fakeHost = spawn("sleep", ["60"], { stdio: "ignore" });
      const fakeHostGone = new Promise((resolve) => fakeHost.once("exit", resolve));
      const plugin = start(await freePort(), { QNTX_HOST_PID: String(fakeHost.pid) });
      await plugin.announced;
      expect(await plugin.within(1200)).toBeUndefined(); // alive while its host is
      fakeHost.kill("SIGKILL");
      await fakeHostGone;
      expect(await plugin.within(5000)).toEqual({ code: 0, signal: null });
      expect(plugin.stderr()).toContain(`host process ${fakeHost.pid} is gone`);
    });
  });
});
