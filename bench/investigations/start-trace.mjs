#!/usr/bin/env node
/**
 * Diagnostic for the `start20` case (not part of `pnpm bench`): a host in THIS process starts
 * N bench SDK plugins at once, and each plugin's start is split into its steps, as offsets
 * from startHost (ms): port allocated, spawn called / returned (spawn blocks the event loop
 * until the child has exec'd), port line read, Metadata / ConfigSchema / Initialize answered,
 * running. Also prints the event loop's longest
 * stall. Node flags apply to the host (e.g. --cpu-prof).
 * Usage: node [flags] bench/investigations/start-trace.mjs [n=20]
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createRequire } from "node:module";
import { createLogger, loadConfig, startHost } from "@qntx/host";
import { hostToml, BENCH_PLUGIN } from "../lib/hosts.mjs";
import { tempDir } from "../lib/procs.mjs";

const n = Number(process.argv[2] ?? 20);
// The host's own module instances (same URLs as the ones its manager imports).
const hostDist = join(createRequire(import.meta.url).resolve("@qntx/host"), "..");
const { PluginProcess } = await import(join(hostDist, "plugin", "process.js"));
const { PortAllocator } = await import(join(hostDist, "plugin", "ports.js"));
const { ExternalDomainProxy } = await import(join(hostDist, "plugin", "external-proxy.js"));

const steps = new Map();
const step = (name, what) => {
  if (!steps.has(name)) steps.set(name, {});
  steps.get(name)[what] ??= performance.now() - t0;
};
const allocate = PortAllocator.prototype.allocate;
let allocations = 0;
PortAllocator.prototype.allocate = async function (...args) {
  const port = await allocate.apply(this, args);
  step(`#${++allocations}`, "port");
  return port;
};
const spawn = PluginProcess.spawn;
PluginProcess.spawn = async (spec) => {
  step(spec.name, "spawnCall");
  const promise = spawn.call(PluginProcess, spec);
  step(spec.name, "spawnReturned");
  const out = await promise;
  step(spec.name, "portLine");
  return out;
};

// The calls the host makes to each plugin: when each first answered.
const names = new Map();
for (const method of ["metadata", "configSchema", "initialize"]) {
  const original = ExternalDomainProxy.prototype[method];
  ExternalDomainProxy.prototype[method] = async function (...args) {
    const out = await original.apply(this, args);
    if (method === "metadata") names.set(this.address, out.name);
    step(names.get(this.address) ?? this.address, method);
    return out;
  };
}

const { dir, cleanup } = tempDir("start-trace");
const plugins = Array.from({ length: n }, (_, i) => ({ name: `p${String(i + 1).padStart(2, "0")}`, binary: BENCH_PLUGIN, env: { BENCH_PLUGIN_NAME: `p${String(i + 1).padStart(2, "0")}` } }));
const configPath = join(dir, "am.plugins.toml");
writeFileSync(configPath, hostToml(dir, plugins));
process.env.QNTX_LOG_LEVEL = "warn";
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
const t0 = performance.now();
const host = await startHost(loadConfig({ configPath, cwd: dir }), createLogger({ pretty: false }));
host.registry.on("plugin:state", ({ name, state }) => state === "running" && step(name, "running"));
await host.ready;
const readyMs = performance.now() - t0;
delay.disable();
await host.close();
cleanup();

const rows = [...steps].filter(([name]) => !name.startsWith("#")).sort((a, b) => a[1].spawnCall - b[1].spawnCall);
const ports = [...steps].filter(([name]) => name.startsWith("#")).map(([, s]) => s.port);
const f = (v) => (v === undefined ? "—" : v.toFixed(0)).padStart(6);
console.log(`plugin  port  spawn→ →spawned portline metadata  schema  initialized running   (ms since startHost)`);
rows.forEach(([name, s], i) => console.log(`${name}  ${f(ports[i])} ${f(s.spawnCall)} ${f(s.spawnReturned)} ${f(s.portLine)} ${f(s.metadata)} ${f(s.configSchema)} ${f(s.initialize)} ${f(s.running)}`));
const spawnBlocked = rows.reduce((sum, [, s]) => sum + (s.spawnReturned - s.spawnCall), 0);
console.log(`all ready ${readyMs.toFixed(0)} ms; spawn calls blocked the event loop ${spawnBlocked.toFixed(0)} ms in all; longest event-loop stall ${(delay.max / 1e6).toFixed(0)} ms`);
