/**
 * The lifecycle table (transitions.ts): the moves it refuses, the docs that draw it, and the
 * moves real misbehaving plugin processes make, seen through the registry's `plugin:state`
 * events: a SIGKILL, a restart that fails after a crash, a crash loop, a person's restart.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { PluginStateChange } from "../src/plugin/plugin-info.js";
import type { Registry } from "../src/plugin/registry.js";
import { PLUGIN_STATES, type PluginState } from "../src/plugin/state.js";
import { IllegalTransitionError, TRANSITIONS, checkTransition } from "../src/plugin/transitions.js";
import { FAKE_PLUGIN_PATH, adminHeaders, fakePluginTable, http, startTestHost, type TestHost } from "./harness.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

const DOCS = new URL("../../docs/architecture.md", import.meta.url);

/** The lifecycle section of docs/architecture.md. */
function lifecycleSection(): string {
  const docs = readFileSync(DOCS, "utf8");
  const start = docs.indexOf("## The plugin lifecycle");
  expect(start).toBeGreaterThanOrEqual(0);
  return docs.slice(start, docs.indexOf("\n## ", start + 1));
}

/** The table as its markdown rows, which the docs must hold exactly. */
function tableRows(): string[] {
  return TRANSITIONS.map((t) => `| ${t.from.map((s) => `\`${s}\``).join(", ")} | \`${t.to}\` | ${t.when} |`);
}

describe("the lifecycle table", () => {
  it("allows the moves it lists and refuses any other with the bug named and a hint", () => {
    expect(checkTransition("p", "stopped", "loading")).toBe(true);
    expect(checkTransition("p", "running", "running")).toBe(false);
    let thrown: unknown;
    try {
      checkTransition("p", "stopped", "running");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(IllegalTransitionError);
    expect((thrown as Error).message).toBe("plugin p cannot go from stopped to running: the lifecycle (host/src/plugin/transitions.ts) has no such move");
    expect((thrown as IllegalTransitionError).hint).toContain("bug in the host");
  });

  it("names only real states, lists no move to the same state, and every state can be left and reached", () => {
    for (const t of TRANSITIONS) for (const s of [...t.from, t.to]) expect(PLUGIN_STATES).toContain(s);
    for (const t of TRANSITIONS) expect(t.from).not.toContain(t.to);
    for (const state of PLUGIN_STATES) {
      expect(TRANSITIONS.some((t) => t.from.includes(state))).toBe(true);
      if (state !== "stopped") expect(TRANSITIONS.some((t) => t.to === state)).toBe(true);
    }
  });

  it("is the table docs/architecture.md shows, row for row", () => {
    const lines = lifecycleSection().split("\n");
    const header = lines.indexOf("| From | To | When |");
    expect(header).toBeGreaterThanOrEqual(0);
    const end = lines.indexOf("", header);
    const documented = lines.slice(header + 2, end < 0 ? undefined : end);
    // On a mismatch the message holds the rows to paste into the docs.
    expect(documented.join("\n")).toBe(tableRows().join("\n"));
  });

  it("is the diagram docs/architecture.md draws, arrow for arrow", () => {
    const diagram = /```mermaid\n([\s\S]*?)```/.exec(lifecycleSection())?.[1] ?? "";
    const arrows = new Set([...diagram.matchAll(/^\s*(\w+) --> (\w+)/gm)].map((m) => `${m[1]} → ${m[2]}`));
    const moves = new Set(TRANSITIONS.flatMap((t) => t.from.map((from) => `${from} → ${t.to}`)));
    expect([...arrows].sort()).toEqual([...moves].sort());
  });
});

const hosts: TestHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((t) => t.close()));
  cleanupTempDirs();
});

/** Records `plugin`'s state changes from now on. */
function recordStates(registry: Registry, plugin: string): PluginStateChange[] {
  const seen: PluginStateChange[] = [];
  registry.on("plugin:state", (change) => change.name === plugin && seen.push(change));
  return seen;
}

/** Resolves with the changes recorded once `plugin` has reached `state` `times` times (counted from the recording's start). */
function reached(registry: Registry, seen: PluginStateChange[], state: PluginState, times = 1): Promise<PluginStateChange[]> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (seen.filter((c) => c.state === state).length < times) return;
      registry.off("plugin:state", check);
      resolve(seen);
    };
    registry.on("plugin:state", check);
    check();
  });
}

describe("moves of real plugin processes", () => {
  it("a SIGKILL: running → restarting with the reason → loading → running", async () => {
    const t = await startTestHost(fakePluginTable("victim", "ok"), { restart_backoff_base_ms: 100 });
    hosts.push(t);
    const seen = recordStates(t.host.registry, "victim");
    process.kill(t.host.registry.get("victim")!.pid!, "SIGKILL");
    await reached(t.host.registry, seen, "running");
    expect(seen.map((c) => [c.previous, c.state])).toEqual([["running", "restarting"], ["restarting", "loading"], ["loading", "running"]]);
    expect(seen[0]!.reason).toMatch(/^exited unexpectedly \(killed by SIGKILL\)/);
    expect(seen.slice(1).every((c) => c.reason === undefined)).toBe(true);
  });

  it("a restart that fails after a crash is one more crash: loading → restarting, then failed once the budget is spent", async () => {
    const dir = makeTempDir("qntx-transitions-");
    const marker = join(dir, "ran-once");
    // Runs the fake plugin the first time only; every later start exits before its port line.
    const once = join(dir, "once.mjs");
    writeFileSync(once, [
      `import { existsSync, writeFileSync } from "node:fs";`,
      `if (existsSync(${JSON.stringify(marker)})) { process.stderr.write("once: refusing a second run\\n", () => process.exit(3)); }`,
      `else { writeFileSync(${JSON.stringify(marker)}, ""); await import(${JSON.stringify(pathToFileURL(FAKE_PLUGIN_PATH).href)}); }`,
    ].join("\n"));
    const t = await startTestHost(`[plugins.once]\nbinary = ${JSON.stringify(once)}\nargs = ["--name", "once"]\n`, {
      restart_backoff_base_ms: 50, restart_backoff_max_ms: 100, crash_budget: 3, crash_window_ms: 60_000,
    });
    hosts.push(t);
    const seen = recordStates(t.host.registry, "once");
    process.kill(t.host.registry.get("once")!.pid!, "SIGKILL");
    await reached(t.host.registry, seen, "failed");
    expect(seen.map((c) => `${c.previous} → ${c.state}`)).toEqual([
      "running → restarting", "restarting → loading", "loading → restarting", "restarting → loading", "loading → failed",
    ]);
    expect(seen[2]!.reason).toMatch(/^restart failed: plugin once exited before announcing its port \(exit code 3\)/);
    expect(seen[4]!.reason).toMatch(/^restart failed: .*; crashed 3 times within 60 s \(budget 3\): not restarting until `qntx plugin start once`$/s);
    expect(t.host.registry.instance("once")!.restartAt).toBeUndefined();
  });

  it("a crash loop with the budget spent: running → failed, the reason saying so", async () => {
    const t = await startTestHost(fakePluginTable("crashy", "crash-after-ready"), { restart_backoff_base_ms: 50, restart_backoff_max_ms: 100, crash_budget: 2, crash_window_ms: 60_000 });
    hosts.push(t);
    const seen = recordStates(t.host.registry, "crashy");
    // Each run exits on its first HTTP call: two calls, two crashes.
    await http(`${t.url}/api/crashy/ping`);
    await reached(t.host.registry, seen, "running");
    await http(`${t.url}/api/crashy/ping`);
    await reached(t.host.registry, seen, "failed");
    expect(seen.map((c) => `${c.previous} → ${c.state}`)).toEqual(["running → restarting", "restarting → loading", "loading → running", "running → failed"]);
    expect(seen[3]!.reason).toMatch(/^exited unexpectedly \(exit code 1\).*; crashed 2 times within 60 s \(budget 2\)/s);
  });

  it("a person's restart: running → restarting → loading → running, without a reason and never stopped", async () => {
    const t = await startTestHost(fakePluginTable("calm", "ok"));
    hosts.push(t);
    const seen = recordStates(t.host.registry, "calm");
    const res = await http(`${t.url}/api/plugins/calm/restart`, { method: "POST", headers: adminHeaders(t) });
    expect(res.json().plugin.state).toBe("running");
    expect(seen).toEqual([
      { name: "calm", previous: "running", state: "restarting" },
      { name: "calm", previous: "restarting", state: "loading" },
      { name: "calm", previous: "loading", state: "running" },
    ]);
  });
});
