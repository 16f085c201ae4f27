/**
 * HTTP GET /api/hello/hello through the host to the SDK hello plugin, against "two-hop": a
 * node:http server making one grpc-js HandleHTTP call per request to a bare echo process.
 * 64 connections: autocannon (its own process) for req/s and p99. 1 connection: a raw-socket
 * ping-pong client (its own process) for a µs-resolution p50. proxy-go: the same 64-connection
 * load through the host to the Go example plugin, beside the SDK hello plugin.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR, FIXTURES, REPO_DIR, runJson, spawnWithPort, stopChild, withCpu } from "../lib/procs.mjs";
import { HELLO_PLUGIN, startHostWith } from "../lib/hosts.mjs";
import { alternate, pick } from "../lib/rounds.mjs";

const AUTOCANNON = join(BENCH_DIR, "node_modules", "autocannon", "autocannon.js");
const PATH = "/api/hello/hello";

async function setup() {
  const ours = await startHostWith("proxy", [{ name: "hello", binary: HELLO_PLUGIN }]);
  const echo = await spawnWithPort(join(FIXTURES, "bare-echo.mjs"));
  const twoHop = await spawnWithPort(join(FIXTURES, "two-hop.mjs"), [], { env: { ECHO_ADDRESS: `127.0.0.1:${echo.port}` } });
  return {
    oursUrl: ours.host.url + PATH,
    baselineUrl: `http://127.0.0.1:${twoHop.port}${PATH}`,
    // The server side of each: CPU time per request is measured over these processes.
    oursPids: [ours.host.pid, ...ours.ready.plugins.map((p) => p.pid)],
    baselinePids: [twoHop.child.pid, echo.child.pid],
    cleanup: async () => {
      await stopChild(twoHop.child);
      await stopChild(echo.child);
      await ours.cleanup();
    },
  };
}

async function autocannon(url, connections, seconds, pids = []) {
  const [r, cpuMs, each] = await withCpu(pids, () => runJson(AUTOCANNON, ["-c", connections, "-d", seconds, "--json", url]));
  const bad = r.non2xx + r.errors + r.timeouts;
  if (bad > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
  const perRequest = (ms) => (ms * 1000) / r.requests.total;
  // pids are [front, plugin]: the split says which of the two processes a gap comes from.
  return { rps: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99, cpuUs: perRequest(cpuMs), frontUs: perRequest(each[0] ?? 0), pluginUs: perRequest(each[1] ?? 0) };
}

/** @type {import("../run.mjs").Case} */
export const proxy64 = {
  name: "proxy-64",
  title: "HTTP GET /api/hello/hello via host → SDK plugin, 64 connections (autocannon)",
  baseline: "two-hop: node:http + one grpc-js unary call per request to a bare echo process",
  // 8 pairs of 3 s rather than 3 of 5 s: a p99 over 64 connections moves by ±10 ms between
  // rounds on this machine, so more alternations buy more than longer rounds.
  async run({ rounds = 8, seconds = 3, log }) {
    const s = await setup();
    try {
      log("  warm-up 2 s each");
      await autocannon(s.baselineUrl, 64, 2);
      await autocannon(s.oursUrl, 64, 2);
      const r = await alternate(rounds, {
        baseline: () => autocannon(s.baselineUrl, 64, seconds, s.baselinePids),
        ours: () => autocannon(s.oursUrl, 64, seconds, s.oursPids),
      }, log);
      return [
        { metric: "throughput", unit: "req/s", ours: pick(r.ours, "rps"), baseline: pick(r.baseline, "rps"), better: "higher", target: "≥ 80 % of baseline", pass: (o, b) => o >= 0.8 * b },
        { metric: "p99 latency", unit: "ms", ours: pick(r.ours, "p99"), baseline: pick(r.baseline, "p99"), better: "lower", target: "≤ baseline + 1 ms", pass: (o, b) => o <= b + 1, note: "autocannon: whole ms" },
        { metric: "p99 minus the baseline's in the same pair", unit: "ms", ours: r.ours.map((o, i) => o.p99 - r.baseline[i].p99), better: "lower", target: "(info)", note: "each round of ours against the baseline round next to it; the median of these is the paired view of the p99 target" },
        { metric: "server CPU per request", unit: "µs", ours: pick(r.ours, "cpuUs"), baseline: pick(r.baseline, "cpuUs"), better: "lower", target: "(info)", note: "host + plugin vs two-hop + echo; CPU time, so it holds under load" },
        { metric: "host/two-hop CPU per request", unit: "µs", ours: pick(r.ours, "frontUs"), baseline: pick(r.baseline, "frontUs"), better: "lower", target: "(info)", note: "the host alone vs the two-hop node:http front alone" },
        { metric: "plugin/echo CPU per request", unit: "µs", ours: pick(r.ours, "pluginUs"), baseline: pick(r.baseline, "pluginUs"), better: "lower", target: "(info)", note: "the SDK hello plugin vs the bare grpc-js echo" },
      ];
    } finally {
      await s.cleanup();
    }
  },
};

/** @type {import("../run.mjs").Case} */
export const proxy1 = {
  name: "proxy-1",
  title: "HTTP GET /api/hello/hello via host → SDK plugin, 1 connection (raw-socket ping-pong)",
  baseline: "two-hop (as proxy-64)",
  // 10 pairs of 2 s after a 1 s warm-up of each side (was 3 pairs of 5 s, no warm-up: the first
  // round of both sides ran near 1 ms, and the same side's p50 moved 0.40–0.99 ms between rounds).
  async run({ rounds = 10, seconds = 2, log }) {
    const s = await setup();
    const ping = async (url, pids, forSeconds = seconds) => {
      const [x, cpuMs] = await withCpu(pids, () => runJson(join(BENCH_DIR, "load", "http-pingpong.mjs"), [url, forSeconds, 0.5]));
      return { ...x, cpuUs: (cpuMs * 1000) / x.requests };
    };
    try {
      log("  warm-up 1 s each");
      await ping(s.baselineUrl, s.baselinePids, 1);
      await ping(s.oursUrl, s.oursPids, 1);
      const r = await alternate(rounds, { baseline: () => ping(s.baselineUrl, s.baselinePids), ours: () => ping(s.oursUrl, s.oursPids) }, log);
      return [
        { metric: "p50 latency", unit: "ms", ours: pick(r.ours, "p50"), baseline: pick(r.baseline, "p50"), better: "lower", target: "≤ 1.3× baseline", pass: (o, b) => o <= 1.3 * b },
        { metric: "p50 over the baseline's in the same pair", unit: "×", ours: r.ours.map((o, i) => o.p50 / r.baseline[i].p50), better: "lower", target: "(info)", note: "each round of ours against the baseline round next to it: the paired view of the p50 target" },
        { metric: "p99 latency", unit: "ms", ours: pick(r.ours, "p99"), baseline: pick(r.baseline, "p99"), better: "lower", target: "(info)" },
        { metric: "throughput", unit: "req/s", ours: pick(r.ours, "rps"), baseline: pick(r.baseline, "rps"), better: "higher", target: "(info)" },
        { metric: "server CPU per request", unit: "µs", ours: pick(r.ours, "cpuUs"), baseline: pick(r.baseline, "cpuUs"), better: "lower", target: "(info)", note: "host + plugin vs two-hop + echo; includes the load generator's own warm-up" },
      ];
    } finally {
      await s.cleanup();
    }
  },
};

/** The Go example plugin, built by `pnpm build` when Debian's Go toolchain is there. */
const GO_PLUGIN = join(REPO_DIR, "examples", "go-plugin", "bin", "goplug");

/** @type {import("../run.mjs").Case} */
export const proxyGo = {
  name: "proxy-go",
  title: "HTTP GET /api/goplug/hello via host → Go plugin (examples/go-plugin, sdk-go), 64 connections (autocannon)",
  baseline: "the same host → the SDK hello plugin (TypeScript), GET /api/hello/hello (proxy-64's ours side)",
  // The host's share of a request should not depend on the plugin's language; the plugin's
  // share will. Both hosts run side by side, measured in turns, as proxy-64's two sides are.
  async run({ rounds = 8, seconds = 3, log }) {
    if (!existsSync(GO_PLUGIN)) {
      throw new Error(`${GO_PLUGIN} is not built: \`sh sdk-go/toolchain.sh check\` says what is missing, then \`pnpm build\``);
    }
    const ts = await startHostWith("proxy-ts", [{ name: "hello", binary: HELLO_PLUGIN }]);
    let go;
    try {
      go = await startHostWith("proxy-go", [{ name: "goplug", binary: GO_PLUGIN }]);
      const sides = {
        baseline: { url: ts.host.url + PATH, pids: [ts.host.pid, ...ts.ready.plugins.map((p) => p.pid)] },
        ours: { url: `${go.host.url}/api/goplug/hello`, pids: [go.host.pid, ...go.ready.plugins.map((p) => p.pid)] },
      };
      log("  warm-up 2 s each");
      await autocannon(sides.baseline.url, 64, 2);
      await autocannon(sides.ours.url, 64, 2);
      const r = await alternate(rounds, {
        baseline: () => autocannon(sides.baseline.url, 64, seconds, sides.baseline.pids),
        ours: () => autocannon(sides.ours.url, 64, seconds, sides.ours.pids),
      }, log);
      return [
        { metric: "throughput", unit: "req/s", ours: pick(r.ours, "rps"), baseline: pick(r.baseline, "rps"), better: "higher", target: "(info)" },
        { metric: "p99 latency", unit: "ms", ours: pick(r.ours, "p99"), baseline: pick(r.baseline, "p99"), better: "lower", target: "(info)", note: "autocannon: whole ms" },
        { metric: "host CPU per request", unit: "µs", ours: pick(r.ours, "frontUs"), baseline: pick(r.baseline, "frontUs"), better: "lower", target: "(info)", note: "the host process alone; the same gateway and grpc-js client code on both sides" },
        { metric: "plugin CPU per request", unit: "µs", ours: pick(r.ours, "pluginUs"), baseline: pick(r.baseline, "pluginUs"), better: "lower", target: "(info)", note: "the Go plugin (grpc-go, net/http ServeMux, encoding/json) vs the SDK hello plugin (grpc-js)" },
        { metric: "server CPU per request", unit: "µs", ours: pick(r.ours, "cpuUs"), baseline: pick(r.baseline, "cpuUs"), better: "lower", target: "(info)", note: "host + plugin" },
      ];
    } finally {
      await go?.cleanup();
      await ts.cleanup();
    }
  },
};
