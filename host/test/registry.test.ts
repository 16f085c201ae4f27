/** Registry: states, initialize-all, health-check-all, shutdown-all and the version check. */
import { describe, expect, it } from "@jest/globals";
import { createClockPlugin } from "../src/builtin/clock.js";
import { inProcess } from "../src/plugin/in-process.js";
import type { DomainPlugin } from "../src/plugin/domain-plugin.js";
import { Registry } from "../src/plugin/registry.js";
import { checkQntxVersion } from "../src/plugin/version.js";

const request = {
  atsStoreEndpoint: "", queueEndpoint: "", authToken: "t", config: {}, scheduleEndpoint: "", fileServiceEndpoint: "",
  llmEndpoint: "", embeddingEndpoint: "", vectorSearchEndpoint: "", groundEndpoint: "", searchEndpoint: "", fetchEndpoint: "",
};

/** The clock plugin with its metadata changed, to drive the registry's checks. */
function clockReporting(overrides: { name?: string; qntxVersion?: string }): DomainPlugin {
  const clock = createClockPlugin();
  return { ...clock, metadata: async (o) => ({ ...(await clock.metadata(o)), ...overrides }) };
}

describe("Registry", () => {
  it("moves plugins through loading → running → stopped and lists them", async () => {
    const registry = new Registry("1.2.3");
    const states: string[] = [];
    registry.on("state", (_name: string, state: string) => states.push(state));
    registry.register("clock", inProcess(clockReporting({ qntxVersion: ">=1.0.0" })), { kind: "builtin" });
    expect(registry.get("clock")!.state).toBe("loading");
    await registry.initializeAll(() => request, 1000);
    expect(registry.get("clock")).toMatchObject({ state: "running", version: "0.1.0", kind: "builtin" });
    expect(registry.runningPlugin("clock")).toBeDefined();
    const health = await registry.healthCheckAll(1000);
    expect(health.get("clock")!.healthy).toBe(true);
    await registry.shutdownAll(1000);
    expect(registry.get("clock")!.state).toBe("stopped");
    expect(registry.runningPlugin("clock")).toBeUndefined();
    expect(states).toEqual(["loading", "running", "stopped"]);
    expect(registry.list().map((p) => p.name)).toEqual(["clock"]);
  });

  it("fails a plugin that reports another name, naming both", async () => {
    const registry = new Registry("1.2.3");
    registry.register("clock", inProcess(clockReporting({ name: "other" })), { kind: "builtin" });
    await expect(registry.initialize("clock", request, 1000)).rejects.toThrow(/"clock".*"other"/);
    expect(registry.get("clock")!.state).toBe("failed");
  });

  it("fails a plugin whose qntx_version the host does not satisfy", async () => {
    const registry = new Registry("1.2.3");
    registry.register("clock", inProcess(clockReporting({ qntxVersion: "^2.0.0" })), { kind: "builtin" });
    await registry.initializeAll(() => request, 1000);
    expect(registry.get("clock")!.state).toBe("failed");
    expect(registry.get("clock")!.error).toBe("plugin clock needs qntx ^2.0.0, but this host is 1.2.3");
  });

  it("counts a health call that hangs as unhealthy", async () => {
    const registry = new Registry("1.2.3");
    const clock = createClockPlugin();
    registry.register("clock", inProcess({ ...clock, health: () => new Promise(() => undefined) }), { kind: "builtin" });
    await registry.initializeAll(() => request, 1000);
    const health = await registry.healthCheckAll(100);
    expect(health.get("clock")).toMatchObject({ healthy: false, message: "deadline exceeded" });
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
