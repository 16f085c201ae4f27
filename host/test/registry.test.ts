/**
 * Registry and PluginInstance with an in-process plugin: states and their events, the index's
 * lookups, health, shutdown, and the name and version checks before Initialize.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { createClockPlugin } from "../src/builtin/clock.js";
import { parseConfig } from "../src/config/index.js";
import { inProcess } from "../src/plugin/in-process.js";
import type { DomainPlugin } from "../src/plugin/domain-plugin.js";
import { PluginManager } from "../src/plugin/manager.js";
import { Registry, type PluginEvents } from "../src/plugin/registry.js";
import { checkQntxVersion } from "../src/plugin/version.js";
import { PluginTokens } from "../src/services/tokens.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

const endpoints = {
  atsStoreEndpoint: "", queueEndpoint: "", scheduleEndpoint: "", fileServiceEndpoint: "",
  llmEndpoint: "", embeddingEndpoint: "", vectorSearchEndpoint: "", groundEndpoint: "", searchEndpoint: "", fetchEndpoint: "",
};

/** The clock plugin with its metadata changed, to drive the checks before Initialize. */
function clockReporting(overrides: { name?: string; qntxVersion?: string }): DomainPlugin {
  const clock = createClockPlugin();
  return { ...clock, metadata: async (o) => ({ ...(await clock.metadata(o)), ...overrides }) };
}

/** A registry and manager of one built-in `clock` whose runs are `plugin`, on a host of version 1.2.3. */
function clockHost(plugin: () => DomainPlugin) {
  const dir = makeTempDir("qntx-registry-");
  const config = parseConfig(`[host]\ndata_dir = "data"\n\n[plugins.clock]\nbuiltin = "clock"\n`, undefined, { cwd: dir, env: {} });
  const registry = new Registry();
  const events: Array<{ event: keyof PluginEvents; data: unknown }> = [];
  for (const event of ["plugin:added", "plugin:state", "plugin:initialized", "plugin:health", "plugin:removed"] as const) {
    registry.on(event, (data: unknown) => events.push({ event, data }));
  }
  const manager = new PluginManager(config, registry, { endpoints, tokens: new PluginTokens() }, pino({ level: "silent" }), {
    hostVersion: "1.2.3",
    launch: async () => ({ plugin: inProcess(plugin()), aborted: new Promise<never>(() => undefined) }),
  });
  const states = () => events.filter((e) => e.event === "plugin:state").map((e) => (e.data as { state: string }).state);
  return { registry, manager, events, states };
}

afterEach(() => cleanupTempDirs());

describe("Registry", () => {
  it("moves plugins through loading → running → stopped and lists them", async () => {
    const { registry, manager, events, states } = clockHost(() => clockReporting({ qntxVersion: ">=1.0.0" }));
    expect(registry.get("clock")!.state).toBe("stopped");
    await manager.start("clock");
    expect(registry.get("clock")).toMatchObject({ state: "running", version: "0.1.0", kind: "builtin" });
    expect(registry.runningPlugin("clock")).toBeDefined();
    await manager.checkHealth(1000);
    expect(registry.get("clock")!.health!.healthy).toBe(true);
    await manager.stopAll();
    expect(registry.get("clock")!.state).toBe("stopped");
    expect(registry.runningPlugin("clock")).toBeUndefined();
    expect(states()).toEqual(["loading", "running", "stopped"]);
    expect(registry.list().map((p) => p.name)).toEqual(["clock"]);
    // Every event is one object, emitted in the order things happened.
    expect(events.map((e) => e.event)).toEqual(["plugin:added", "plugin:state", "plugin:state", "plugin:initialized", "plugin:health", "plugin:state"]);
    expect(events[0]!.data).toEqual({ name: "clock", kind: "builtin" });
    expect(events[1]!.data).toEqual({ name: "clock", state: "loading", previous: "stopped" });
    expect(events[2]!.data).toEqual({ name: "clock", state: "running", previous: "loading" });
    expect(events[3]!.data).toEqual({ name: "clock" });
    expect(events[4]!.data).toMatchObject({ name: "clock", health: { answered: true, healthy: true } });
    expect(events[5]!.data).toEqual({ name: "clock", state: "stopped", previous: "running" });
  });

  it("goes restarting → loading → running on a restart, never through stopped", async () => {
    const { manager, states } = clockHost(() => clockReporting({}));
    await manager.start("clock");
    await manager.restart("clock");
    expect(states()).toEqual(["loading", "running", "restarting", "loading", "running"]);
  });

  it("fails a plugin that reports another name, naming both", async () => {
    const { registry, manager, events } = clockHost(() => clockReporting({ name: "other" }));
    await expect(manager.start("clock")).rejects.toThrow(/"clock".*"other"/);
    expect(registry.get("clock")!.state).toBe("failed");
    const failed = events.at(-1)!.data as { state: string; reason: string };
    expect(failed).toMatchObject({ state: "failed", previous: "loading", reason: expect.stringMatching(/"clock".*"other"/) });
  });

  it("fails a plugin whose qntx_version the host does not satisfy", async () => {
    const { registry, manager } = clockHost(() => clockReporting({ qntxVersion: "^2.0.0" }));
    await manager.start("clock").catch(() => undefined);
    expect(registry.get("clock")!.state).toBe("failed");
    expect(registry.get("clock")!.error).toBe("plugin clock needs qntx ^2.0.0, but this host is 1.2.3");
  });

  it("counts a health call that hangs as unhealthy", async () => {
    const { registry, manager, events } = clockHost(() => ({ ...createClockPlugin(), health: () => new Promise(() => undefined) }));
    await manager.start("clock");
    await manager.checkHealth(100);
    expect(registry.get("clock")!.health).toMatchObject({ healthy: false, message: "deadline exceeded" });
    expect(events.at(-1)).toMatchObject({ event: "plugin:health", data: { name: "clock", health: { answered: false } } });
    expect(registry.unansweredHealthChecks("clock")).toBe(1);
  });

  it("forgets a removed plugin and says so", async () => {
    const { registry, manager, events } = clockHost(() => clockReporting({}));
    await manager.start("clock");
    await manager.remove("clock");
    expect(registry.has("clock")).toBe(false);
    expect(registry.get("clock")).toBeUndefined();
    expect(events.at(-1)).toEqual({ event: "plugin:removed", data: { name: "clock" } });
    await expect(manager.start("clock")).rejects.toMatchObject({ code: "PLUGIN_NOT_FOUND" });
  });
});

describe("checkQntxVersion", () => {
  it("accepts empty and satisfied ranges, prereleases of the host included", () => {
    expect(() => checkQntxVersion("p", "", "0.1.0")).not.toThrow();
    expect(() => checkQntxVersion("p", ">=0.1.0", "0.2.0-dev.1")).not.toThrow();
  });
  it("refuses a range that is not semver", () => {
    expect(() => checkQntxVersion("p", "latest please", "0.1.0")).toThrow(/not a semver range/);
  });
});
