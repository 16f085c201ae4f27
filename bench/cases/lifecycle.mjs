/**
 * Plugin lifecycle costs. Cold start: spawn → `Metadata` answered, SDK plugin against a bare
 * grpc-js server. 20 plugins auto-started at once: startHost → every plugin running. Memory:
 * RSS of an idle `qntx server` process with 5 SDK plugins, and of those plugins against a bare
 * grpc-js server.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { DomainPluginServiceClient, grpcOptions } from "@qntx/protocol";
import { FIXTURES, REPO_DIR, rssOf, spawnWithPort, stopChild, tempDir, waitForHostUrl, waitForRunningPlugins } from "../lib/procs.mjs";
import { BENCH_PLUGIN, HELLO_PLUGIN, hostToml, startHostWith } from "../lib/hosts.mjs";
import { alternate, pick } from "../lib/rounds.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;

function unary(client, method) {
  return new Promise((resolve, reject) => client[method]({}, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res))));
}

/** Spawns `script`, reads its port line, and calls Metadata until it answers; ms since spawn. */
async function coldStart(script, env = {}) {
  const t0 = performance.now();
  const { child, port, portMs } = await spawnWithPort(script, [], { env });
  const client = new DomainPluginServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), grpcOptions());
  try {
    const md = await unary(client, "metadata");
    if (!md.name) throw new Error("Metadata answered no name");
    return { ms: performance.now() - t0, portMs };
  } finally {
    client.close();
    await stopChild(child);
  }
}

/** @type {import("../run.mjs").Case} */
export const cold = {
  name: "cold",
  title: "cold start: spawn the SDK hello plugin → port line → Metadata answered",
  baseline: "a bare grpc-js server (generated service definition, no SDK) printing its port",
  async run({ rounds = 10, log }) {
    const r = await alternate(rounds, { baseline: () => coldStart(join(FIXTURES, "bare-echo.mjs")), ours: () => coldStart(HELLO_PLUGIN) }, log);
    return [
      { metric: "spawn → Metadata", unit: "ms", ours: pick(r.ours, "ms"), baseline: pick(r.baseline, "ms"), better: "lower", target: "≤ 1.5× baseline", pass: (o, b) => o <= 1.5 * b },
      { metric: "spawn → port line", unit: "ms", ours: pick(r.ours, "portMs"), baseline: pick(r.baseline, "portMs"), better: "lower", target: "(info)" },
    ];
  },
};

const namedPlugins = (n) => Array.from({ length: n }, (_, i) => {
  const name = `p${String(i + 1).padStart(2, "0")}`;
  return { name, binary: BENCH_PLUGIN, env: { BENCH_PLUGIN_NAME: name } };
});

/**
 * Spawns 20 copies of `script` at once (no host) and waits until every one answers Metadata:
 * the floor for start20. With the bare server it is the cost of 20 Node processes booting
 * grpc-js; with the bench SDK plugin (the very plugins the host starts) it also counts the
 * SDK's own boot, so ours minus it is what the host adds.
 */
async function spawnTwenty(script, envOf = () => ({})) {
  const t0 = performance.now();
  const started = await Promise.all(Array.from({ length: 20 }, (_, i) => spawnWithPort(script, [], { env: envOf(i) })));
  try {
    await Promise.all(started.map(async ({ port }) => {
      const client = new DomainPluginServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), grpcOptions());
      try {
        await unary(client, "metadata");
      } finally {
        client.close();
      }
    }));
    return performance.now() - t0;
  } finally {
    await Promise.all(started.map(({ child }) => stopChild(child)));
  }
}

/** @type {import("../run.mjs").Case} */
export const start20 = {
  name: "start20",
  title: "20 SDK plugins auto-started at once: startHost → all running (host in its own process)",
  baseline: "(reference, not a target) 20 processes spawned at once by a plain script → all answer Metadata: bare grpc-js servers, and the same SDK bench plugins",
  async run({ rounds = 3, log }) {
    const r = await alternate(rounds, {
      baseline: async () => ({
        bareMs: await spawnTwenty(join(FIXTURES, "bare-echo.mjs")),
        sdkMs: await spawnTwenty(BENCH_PLUGIN, (i) => ({ BENCH_PLUGIN_NAME: namedPlugins(20)[i].name, BENCH_PLUGIN_PROFILE: "" })),
      }),
      ours: async () => {
        const s = await startHostWith("start20", namedPlugins(20));
        await s.cleanup();
        return { readyMs: s.ready.readyMs, listenMs: s.host.startMs };
      },
    }, log);
    return [
      { metric: "all 20 ready vs 20 bare servers", unit: "ms", ours: pick(r.ours, "readyMs"), baseline: pick(r.baseline, "bareMs"), better: "lower", target: "< 3 000 ms", pass: (o) => o < 3000 },
      { metric: "all 20 ready vs 20 SDK plugins spawned directly", unit: "ms", ours: pick(r.ours, "readyMs"), baseline: pick(r.baseline, "sdkMs"), better: "lower", target: "(info)" },
      { metric: "HTTP API listening", unit: "ms", ours: pick(r.ours, "listenMs"), better: "lower", target: "(info)" },
    ];
  },
};

/** `qntx server` with 5 SDK plugins, idle: RSS of the host and of each plugin. */
async function hostMemory(idleMs) {
  const { dir, cleanup } = tempDir("memory");
  const config = join(dir, "am.plugins.toml");
  writeFileSync(config, hostToml(dir, namedPlugins(5)));
  const fd = openSync(join(dir, "host.log"), "a");
  const child = spawn(process.execPath, [join(REPO_DIR, "host", "dist", "cli.js"), "--config", config, "server"], { stdio: ["ignore", fd, fd], cwd: dir });
  closeSync(fd);
  try {
    const plugins = await waitForRunningPlugins(await waitForHostUrl(dir), 5);
    await sleep(idleMs);
    const pluginRss = plugins.map((p) => rssOf(p.pid) / MB).sort((a, b) => a - b);
    return { hostMB: rssOf(child.pid) / MB, pluginMB: pluginRss[Math.floor(pluginRss.length / 2)] };
  } catch (error) {
    throw new Error(`${error.message}\n${readFileSync(join(dir, "host.log"), "utf8").slice(-2000)}`);
  } finally {
    await stopChild(child, 8000);
    cleanup();
  }
}

/** A bare grpc-js server after Metadata and Health, idle: its RSS. */
async function bareMemory(idleMs) {
  const { child, port } = await spawnWithPort(join(FIXTURES, "bare-echo.mjs"));
  const client = new DomainPluginServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), grpcOptions());
  try {
    await unary(client, "metadata");
    await unary(client, "health");
    await sleep(idleMs);
    return { pluginMB: rssOf(child.pid) / MB };
  } finally {
    client.close();
    await stopChild(child);
  }
}

/** @type {import("../run.mjs").Case} */
export const memory = {
  name: "memory",
  title: "idle RSS: `qntx server` with 5 SDK plugins (after all running + 3 s); each SDK plugin vs a bare grpc-js server",
  baseline: "bare grpc-js server (generated service definition) after a Metadata and a Health call",
  async run({ rounds = 3, log }) {
    const IDLE = 3000;
    const r = await alternate(rounds, { baseline: () => bareMemory(IDLE), ours: () => hostMemory(IDLE) }, log);
    return [
      { metric: "host RSS, 5 plugins", unit: "MB", ours: pick(r.ours, "hostMB"), better: "lower", target: "≤ 100 MB", pass: (o) => o <= 100 },
      { metric: "plugin RSS", unit: "MB", ours: pick(r.ours, "pluginMB"), baseline: pick(r.baseline, "pluginMB"), better: "lower", target: "≤ 1.3× baseline", pass: (o, b) => o <= 1.3 * b },
    ];
  },
};
