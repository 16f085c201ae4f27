/**
 * Every way a plugin can fail to start gives its own clear error, and the host keeps serving
 * the other plugins. Each case is a real misbehaving process (see fixtures/fake-plugin.mjs).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { PluginInfo } from "../src/plugin/registry.js";
import { FAKE_PLUGIN_PATH, adminHeaders, fakePluginTable, http, processesWithArgs, startTestHost, type TestHost } from "./harness.js";

let t: TestHost;
let plugins: Record<string, PluginInfo>;

beforeAll(async () => {
  t = await startTestHost(
    fakePluginTable("good", "ok") +
      fakePluginTable("impostor", "wrong-name") +
      fakePluginTable("early", "exits-early") +
      fakePluginTable("silent", "never-answers") +
      fakePluginTable("future", "ok", ["--qntx-version", ">=99.0.0"]) +
      fakePluginTable("mute", "never-announces") +
      fakePluginTable("late", "late-announces") +
      `[plugins.missing]\nbinary = "./no/such/plugin-binary"\n` +
      // A working directory that is a file: the spawn itself fails (ENOTDIR), synchronously.
      fakePluginTable("misplaced", "ok", [], `cwd = ${JSON.stringify(FAKE_PLUGIN_PATH)}`),
    // 8 s to be ready: `mute` must boot and answer Metadata on the assumed port within it while
    // seven others boot and the rest of the suite loads the machine (4 s failed once in CI).
    { ready_timeout_ms: 8000, port_line_timeout_ms: 500 },
  );
  // With the admin token: errors then include the plugins' last output lines.
  const list = (await http(`${t.url}/api/plugins`, { headers: adminHeaders(t) })).json().plugins as PluginInfo[];
  plugins = Object.fromEntries(list.map((p) => [p.name, p]));
}, 30_000);

afterAll(async () => {
  await t?.close();
});

describe("startup failures", () => {
  it("refuses a plugin whose Metadata reports another name, naming both", () => {
    expect(plugins.impostor!.state).toBe("failed");
    expect(plugins.impostor!.error).toContain('"impostor"');
    expect(plugins.impostor!.error).toContain('"someone-else"');
  });

  it("reports a binary that does not exist with the paths searched", () => {
    expect(plugins.missing!.state).toBe("failed");
    expect(plugins.missing!.error).toContain("not found");
    expect(plugins.missing!.error).toContain(`${t.dir}/no/such/plugin-binary`);
    expect(plugins.missing!.error).toContain("plugins/no/such/plugin-binary");
  });

  it("reports a plugin that cannot be spawned at all (cwd is a file), naming the binary and the reason", () => {
    expect(plugins.misplaced!.state).toBe("failed");
    expect(plugins.misplaced!.error).toContain("cannot start plugin misplaced");
    expect(plugins.misplaced!.error).toContain(FAKE_PLUGIN_PATH);
    expect(plugins.misplaced!.error).toContain("ENOTDIR");
  });

  it("reports a plugin that exits before announcing its port, with exit code and last output", () => {
    expect(plugins.early!.state).toBe("failed");
    expect(plugins.early!.error).toContain("exited before announcing its port");
    expect(plugins.early!.error).toContain("exit code 3");
    expect(plugins.early!.error).toContain("fatal: cannot open database");
  });

  it("reports a plugin that never answers Metadata", () => {
    expect(plugins.silent!.state).toBe("failed");
    expect(plugins.silent!.error).toContain("did not answer Metadata");
    expect(plugins.silent!.error).toContain("8000 ms");
  });

  it("refuses a qntx_version the host does not satisfy, naming both versions", () => {
    expect(plugins.future!.state).toBe("failed");
    expect(plugins.future!.error).toContain(">=99.0.0");
    expect(plugins.future!.error).toMatch(/host is \d+\.\d+\.\d+/);
  });

  it("assumes the port it passed when no port line comes (QNTX's rule)", () => {
    // With the error, so a failure says why the plugin did not come up.
    expect({ state: plugins.mute!.state, error: plugins.mute!.error }).toEqual({ state: "running", error: null });
    expect(t.logs.some((l) => l.plugin === "mute" && String(l.msg).includes("assuming the port passed"))).toBe(true);
  });

  it("switches to the port of a port line that comes after the timeout", async () => {
    expect(plugins.late!.state).toBe("running");
    expect(t.logs.some((l) => l.plugin === "late" && String(l.msg).includes("the port line came late"))).toBe(true);
    expect((await http(`${t.url}/api/late/ping`)).text).toBe("pong");
  });

  it("keeps serving the good plugin", async () => {
    expect(plugins.good!.state).toBe("running");
    expect((await http(`${t.url}/api/good/ping`)).text).toBe("pong");
  });

  it("shows only the first line of an error without the admin token (output may hold secrets)", async () => {
    const open = (await http(`${t.url}/api/plugins/early`)).json().plugin;
    expect(open.error).toBe("plugin early exited before announcing its port (exit code 3); last output:");
  });

  it("answers 503 with Retry-After and the reason for a failed plugin", async () => {
    const res = await http(`${t.url}/api/early/ping`);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBeTruthy();
    expect(res.json().error).toContain("exit code 3");
    expect(res.json().hint).toContain("qntx plugin start early");
  });

  it("leaves no process behind for plugins that failed", () => {
    for (const name of ["impostor", "silent", "future", "early", "misplaced"]) {
      expect(processesWithArgs(["--name", name])).toEqual([]);
    }
  });
});
