/**
 * Dependencies (order, cycles, version ranges, stop refusal) and pause/resume, for external
 * and built-in plugins alike.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { readFileSync, writeFileSync } from "node:fs";
import { adminHeaders, fakePluginTable, http, jobPluginTable, processesWithArgs, startTestHost, until, type TestHost } from "./harness.js";

let t: TestHost;

const post = (path: string) => http(`${t.url}${path}`, { method: "POST", headers: adminHeaders(t) });

beforeAll(async () => {
  t = await startTestHost(
    fakePluginTable("base", "ok") +
      fakePluginTable("middle", "ok", [], 'depends_on = ["base"]') +
      fakePluginTable("top", "ok", [], 'depends_on = ["middle@^1.0"]') +
      fakePluginTable("needsnew", "ok", [], 'depends_on = ["base@^2.0"]') +
      fakePluginTable("loopx", "ok", [], 'depends_on = ["loopy"]') +
      fakePluginTable("loopy", "ok", [], 'depends_on = ["loopx"]') +
      jobPluginTable("worker") +
      `[plugins.clock]\nbuiltin = "clock"\n`,
  );
});

afterAll(async () => {
  await t?.close();
});

describe("dependencies", () => {
  it("starts plugins after the plugins they depend on", () => {
    const [base, middle, top] = ["base", "middle", "top"].map((n) => t.host.registry.get(n)!);
    expect([base.state, middle.state, top.state]).toEqual(["running", "running", "running"]);
    expect(middle.startedAt!).toBeGreaterThanOrEqual(base.startedAt!);
    expect(top.startedAt!).toBeGreaterThanOrEqual(middle.startedAt!);
  });

  it("refuses a cycle, with the cycle's path", () => {
    for (const name of ["loopx", "loopy"]) {
      const info = t.host.registry.get(name)!;
      expect(info.state).toBe("failed");
      expect(info.error).toMatch(/dependency cycle: (loopx → loopy → loopx|loopy → loopx → loopy)/);
    }
  });

  it("refuses an unsatisfied version range, naming both versions", () => {
    const info = t.host.registry.get("needsnew")!;
    expect(info.state).toBe("failed");
    expect(info.error).toBe("plugin needsnew needs base@^2.0, but base is 1.0.0");
  });

  it("refuses to stop a plugin others depend on, naming them, unless forced", async () => {
    const refused = await post("/api/plugins/base/stop");
    expect(refused.status).toBe(409);
    expect(refused.json().error).toBe("plugin base is needed by middle");
    expect(refused.json().hint).toContain("--force");
    expect(t.host.registry.get("base")!.state).toBe("running");
    const forced = await post("/api/plugins/base/stop?force=1");
    expect(forced.json().plugin.state).toBe("stopped");
    // Starting a dependent brings its dependencies up first.
    await post("/api/plugins/middle/stop?force=1");
    await post("/api/plugins/top/stop");
    const started = await post("/api/plugins/top/start");
    expect(started.json().plugin.state).toBe("running");
    expect(t.host.registry.get("base")!.state).toBe("running");
    expect(t.host.registry.get("middle")!.state).toBe("running");
  });
});

describe("pause and resume", () => {
  it("answers 503 for a paused plugin, built-in or external, and serves again after resume", async () => {
    for (const [name, path] of [["clock", "/now"], ["base", "/ping"]] as const) {
      expect((await post(`/api/plugins/${name}/pause`)).json().plugin.state).toBe("paused");
      const paused = await http(`${t.url}/api/${name}${path}`);
      expect(paused.status).toBe(503);
      expect(paused.headers.get("retry-after")).toBeTruthy();
      expect(paused.json().hint).toContain(`qntx plugin resume ${name}`);
      expect((await post(`/api/plugins/${name}/resume`)).json().plugin.state).toBe("running");
      expect((await http(`${t.url}/api/${name}${path}`)).status).toBe(200);
    }
  });

  it("holds a paused plugin's jobs (they wait, not fail) until it resumes", async () => {
    await post("/api/plugins/worker/pause");
    const enqueue = (body: object) => http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify(body) });
    // A job of a running plugin, enqueued after ours, runs: the pool has claimed since ours
    // was queued (claims go by priority and enqueue order), and passed ours over.
    const laterOneRan = new Promise<void>((resolve) => {
      const onCompleted = ({ job }: { job: { handler: string } }): void => {
        if (job.handler !== "clock/now") return;
        t.host.pulse.off("job:completed", onCompleted);
        resolve();
      };
      t.host.pulse.on("job:completed", onCompleted);
    });
    const { job } = (await enqueue({ handler: "worker/echo", payload: { x: 1 } })).json();
    expect((await enqueue({ handler: "clock/now" })).status).toBe(201);
    await laterOneRan;
    const waiting = (await http(`${t.url}/api/pulse/jobs/${job.id}`)).json().job;
    expect(waiting.status).toBe("queued");
    expect(waiting.attempts).toBe(0);
    await post("/api/plugins/worker/resume");
    const done = await until(async () => {
      const j = (await http(`${t.url}/api/pulse/jobs/${job.id}`)).json().job;
      return j.status === "completed" ? j : undefined;
    }, "the job to run after resume");
    expect(done.result).toEqual({ x: 1 });
  });

  it("does not spawn a second process when a paused plugin is started", async () => {
    const pid = t.host.registry.get("base")!.pid;
    await post("/api/plugins/base/pause");
    expect((await post("/api/plugins/base/start")).json().plugin).toMatchObject({ state: "paused", pid });
    await post("/api/plugins/base/resume");
    expect(processesWithArgs(["--name", "base"])).toHaveLength(1);
  });

  it("refuses to pause a plugin that is not running", async () => {
    const res = await post("/api/plugins/loopx/pause");
    expect(res.status).toBe(400);
    expect(res.json().error).toBe("plugin loopx is failed: only a running plugin can be paused");
  });
});

describe("a start refused for a dependency", () => {
  it("leaves a paused plugin paused, with its process", async () => {
    const plugins = (depExtra: string) => fakePluginTable("dep", "ok", [], depExtra) + fakePluginTable("user", "ok", [], 'depends_on = ["dep"]');
    const h = await startTestHost(plugins(""));
    try {
      const act = (name: string, action: string) => http(`${h.url}/api/plugins/${name}/${action}`, { method: "POST", headers: adminHeaders(h) });
      expect((await act("user", "pause")).json().plugin.state).toBe("paused");
      const pid = h.host.registry.get("user")!.pid;
      writeFileSync(h.configFile, readFileSync(h.configFile, "utf8").replace(plugins(""), plugins("enabled = false")));
      expect((await h.host.reload("dep disabled")).restarted).toEqual(["dep"]);
      const refused = await act("user", "start");
      expect(refused.json()).toMatchObject({ code: "DEPENDENCY_FAILED", error: "plugin user depends on dep, which is disabled" });
      // Before the fix the plugin was `failed` with its process left running, unseen.
      expect(h.host.registry.get("user")).toMatchObject({ state: "paused", pid });
      expect(processesWithArgs(["--name", "user"])).toEqual([pid]);
    } finally {
      await h.close();
    }
  });
});

describe("host shutdown", () => {
  it("stops every plugin, those others depend on included", async () => {
    await t.close();
    for (const name of ["base", "middle", "top", "worker"]) expect(processesWithArgs(["--name", name])).toEqual([]);
  });
});
