/**
 * A host that survives its plugins, each case a real misbehaving process: SIGKILL under HTTP
 * load, a crash loop, a hung Initialize, a plugin ignoring SIGTERM, a plugin whose event loop
 * blocks (Health stops answering), and grandchildren stopped with their plugin.
 */
import { afterAll, afterEach, describe, expect, it } from "@jest/globals";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminHeaders, fakePluginTable, http, jobPluginTable, processesWithArgs, startTestHost, until, type TestHost } from "./harness.js";
import { pluginHealth } from "./helpers/events.js";

const hosts: TestHost[] = [];
async function host(plugins: string, settings: Record<string, string | number> = {}): Promise<TestHost> {
  const t = await startTestHost(plugins, { restart_backoff_base_ms: 100, restart_backoff_max_ms: 500, ...settings });
  hosts.push(t);
  return t;
}

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((t) => t.close()));
});
afterAll(async () => {
  await Promise.all(hosts.splice(0).map((t) => t.close()));
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("kill -9 under HTTP load", () => {
  it("keeps the other plugins serving; the killed one answers 503, then serves again after its restart", async () => {
    const t = await host(fakePluginTable("victim", "ok") + fakePluginTable("bystander", "ok"));
    const victimPid = t.host.registry.get("victim")!.pid!;
    const statuses = { victim: [] as number[], bystander: [] as number[] };
    let killed = false;
    let restartedAt = 0;
    const load = async (name: "victim" | "bystander") => {
      const until = Date.now() + 20_000;
      while (Date.now() < until) {
        const res = await http(`${t.url}/api/${name}/ping`);
        statuses[name].push(res.status);
        if (name === "victim" && killed && res.status === 200) {
          restartedAt ||= Date.now();
          if (statuses.victim.filter((s) => s === 200).length > 0 && statuses.victim.length > 20) return;
        }
        if (name === "bystander" && restartedAt && statuses.bystander.length > 40) return;
      }
    };
    const running = Promise.all([load("victim"), load("bystander"), load("bystander")]);
    await until(() => (statuses.victim.length > 10 ? true : undefined), "some load");
    process.kill(victimPid, "SIGKILL");
    killed = true;
    await running;
    expect(statuses.bystander.every((s) => s === 200)).toBe(true);
    const afterKill = statuses.victim.slice(statuses.victim.indexOf(503));
    expect(afterKill[0]).toBe(503);
    expect(afterKill).toContain(200);
    expect(statuses.victim.every((s) => s === 200 || s === 503 || s === 502)).toBe(true);
    expect(t.host.registry.get("victim")!.pid).not.toBe(victimPid);
  }, 40_000);
});

describe("crash loop", () => {
  it("ends in failed with the reason, and no more restarts", async () => {
    const t = await host(jobPluginTable("looper", ["--exit-after-ms", "100"]), { crash_budget: 3, crash_window_ms: 60_000 });
    const info = await until(() => {
      const p = t.host.registry.get("looper")!;
      return p.state === "failed" ? p : undefined;
    }, "the crash budget to be spent", 20_000);
    expect(info.error).toContain("exited unexpectedly (exit code 7)");
    expect(info.error).toContain("crashed 3 times");
    expect(info.error).toContain("qntx plugin start looper");
    const res = await http(`${t.url}/api/looper/x`);
    expect(res.status).toBe(503);
    expect(res.json().hint).toContain("qntx plugin start looper");
  });

  it("shows a failed plugin with no pid and no health left from when it ran", async () => {
    const t = await host(jobPluginTable("once", ["--exit-after-ms", "1500"]), { crash_budget: 1, crash_window_ms: 60_000 });
    const before = await pluginHealth(t.host.registry, "once", () => true, "a first health check");
    expect(before.healthy).toBe(true);
    const info = await until(async () => {
      const p = (await http(`${t.url}/api/plugins/once`)).json().plugin;
      return p.state === "failed" ? p : undefined;
    }, "the plugin to fail", 20_000);
    expect(info.error).toContain("exited unexpectedly (exit code 7)");
    expect(info.pid).toBeNull();
    expect(info.health).toBeNull();
  });
});

describe("a paused plugin that crashes", () => {
  it("comes back paused (its jobs still wait, its HTTP still answers 503) and serves once resumed", async () => {
    const t = await host(fakePluginTable("napper", "ok"));
    const post = (path: string) => http(`${t.url}${path}`, { method: "POST", headers: adminHeaders(t) });
    expect((await post("/api/plugins/napper/pause")).json().plugin.state).toBe("paused");
    const pid = t.host.registry.get("napper")!.pid!;
    const states: string[] = [];
    const back = new Promise<void>((resolve) => t.host.registry.on("plugin:state", ({ name, state, previous }) => {
      if (name !== "napper") return;
      states.push(`${previous} → ${state}`);
      if (previous === "loading") resolve();
    }));
    process.kill(pid, "SIGKILL");
    await back;
    // Before the fix the restart ended in `running`: a crash undid the person's pause.
    expect(states).toEqual(["paused → restarting", "restarting → loading", "loading → paused"]);
    expect(t.host.registry.get("napper")!.pid).not.toBe(pid);
    const paused = await http(`${t.url}/api/napper/ping`);
    expect(paused.status).toBe(503);
    expect(paused.json().hint).toContain("qntx plugin resume napper");
    expect((await post("/api/plugins/napper/resume")).json().plugin.state).toBe("running");
    expect((await http(`${t.url}/api/napper/ping`)).text).toBe("pong");
  });
});

describe("hangs", () => {
  it("times out a hung Initialize and keeps serving the others", async () => {
    const t = await host(fakePluginTable("stuck", "hangs-initialize") + fakePluginTable("fine", "ok"), { initialize_timeout_ms: 1000 });
    const stuck = t.host.registry.get("stuck")!;
    expect(stuck.state).toBe("failed");
    expect(stuck.error).toMatch(/deadline|DEADLINE/i);
    expect((await http(`${t.url}/api/fine/ping`)).text).toBe("pong");
    expect(processesWithArgs(["--name", "stuck"])).toEqual([]);
  });

  it("kills a plugin that ignores Shutdown and SIGTERM", async () => {
    const t = await host(fakePluginTable("stubborn", "ignores-shutdown"), { shutdown_timeout_ms: 1000 });
    const pid = t.host.registry.get("stubborn")!.pid!;
    const res = await http(`${t.url}/api/plugins/stubborn/stop`, { method: "POST", headers: adminHeaders(t) });
    expect(res.json().plugin.state).toBe("stopped");
    expect(alive(pid)).toBe(false);
  });

  it("restarts a plugin whose event loop blocks (Health stops answering)", async () => {
    const t = await host(jobPluginTable("blocker"), { health_interval_ms: 300, health_failures: 2 });
    const pid = t.host.registry.get("blocker")!.pid!;
    await http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify({ handler: "blocker/block", max_attempts: 1 }) });
    const info = await until(() => {
      const p = t.host.registry.get("blocker")!;
      return p.state === "running" && p.pid !== pid ? p : undefined;
    }, "blocker to be restarted", 20_000);
    expect(alive(pid)).toBe(false);
    expect(info.pid).toEqual(expect.any(Number));
  });
});

describe("a binary that cannot be executed", () => {
  it("fails that plugin with the reason; the host starts, serves and stops", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qntx-shebang-"));
    const script = join(dir, "broken-plugin");
    writeFileSync(script, "#!/nonexistent/interpreter\n");
    chmodSync(script, 0o755);
    const t = await host(`[plugins.broken]\nbinary = ${JSON.stringify(script)}\n\n` + fakePluginTable("sound", "ok"));
    const broken = t.host.registry.get("broken")!;
    expect(broken.state).toBe("failed");
    expect(broken.error).toMatch(/cannot start plugin broken|ENOENT|exited/);
    expect((await http(`${t.url}/api/sound/ping`)).text).toBe("pong");
  });
});

describe("process groups", () => {
  it("stops a plugin's children with it", async () => {
    const childFile = join(mkdtempSync(join(tmpdir(), "qntx-child-")), "child.pid");
    const t = await host(jobPluginTable("parent", ["--spawn-child", childFile]));
    // Wait for the pid, not the file: it exists, empty, before the pid is written.
    const child = Number(await until(() => (existsSync(childFile) ? readFileSync(childFile, "utf8").trim() || undefined : undefined), "the child to start"));
    expect(alive(child)).toBe(true);
    const res = await http(`${t.url}/api/plugins/parent/stop`, { method: "POST", headers: adminHeaders(t) });
    expect(res.json().plugin.state).toBe("stopped");
    await until(() => (alive(child) ? undefined : true), "the child to be gone");
  });
});
