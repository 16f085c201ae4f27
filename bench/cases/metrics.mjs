/**
 * What `/metrics` costs the proxy: HTTP GET /api/hello/hello through a host with metrics on
 * (ours: every request observed into the per-plugin histogram, every call to the plugin
 * counted) against the same host with `[host] metrics = false` (baseline), side by side,
 * alternating rounds of 64 connections (autocannon, its own process). The figure that
 * matters is the host process's CPU time per request: it holds while other programs load the
 * machine, and both hosts are built from the same code.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { BENCH_DIR, REPO_DIR, runJson, withCpu } from "../lib/procs.mjs";
import { HELLO_PLUGIN, startHostWith } from "../lib/hosts.mjs";
import { alternate, pick } from "../lib/rounds.mjs";

const AUTOCANNON = join(BENCH_DIR, "node_modules", "autocannon", "autocannon.js");
const PATH = "/api/hello/hello";

async function load(url, seconds, pids = []) {
  const [r, , each] = await withCpu(pids, () => runJson(AUTOCANNON, ["-c", 64, "-d", seconds, "--json", url]));
  const bad = r.non2xx + r.errors + r.timeouts;
  if (bad > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
  return { rps: r.requests.total / r.duration, hostUs: ((each[0] ?? 0) * 1000) / r.requests.total };
}

/**
 * The metrics work one proxied request adds, alone: the gateway's observation and the gRPC
 * client's call record, in a loop in this process (CPU µs per request). On a loaded machine
 * this figure holds where whole-request CPU moves by tens of per cent between rounds.
 */
async function observeCostUs() {
  const { HostMetrics } = await import(pathToFileURL(join(REPO_DIR, "host", "dist", "metrics", "host-metrics.js")).href);
  const fakeRegistry = { list: () => [], on() {}, off() {} };
  const metrics = new HostMetrics({ plugins: fakeRegistry, pulse: { counts: async () => ({}) } });
  const call = metrics.callObserver("hello");
  const n = 200_000;
  const run = () => {
    for (let i = 0; i < n; i++) {
      call("HandleHTTP", 0, 0.0004);
      metrics.gateway.httpRequest("hello", "GET", 200, 0.0005);
    }
  };
  run();
  const before = process.cpuUsage();
  run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

/** @type {import("../run.mjs").Case} */
export const metrics = {
  name: "metrics",
  title: "HTTP GET /api/hello/hello via host → SDK plugin with /metrics on, 64 connections (autocannon)",
  baseline: "the same host with [host] metrics = false",
  async run({ rounds = 8, seconds = 3, log }) {
    const on = await startHostWith("metrics-on", [{ name: "hello", binary: HELLO_PLUGIN }]);
    let off;
    try {
      off = await startHostWith("metrics-off", [{ name: "hello", binary: HELLO_PLUGIN }], { metrics: false });
      const sides = {
        baseline: { url: off.host.url + PATH, pids: [off.host.pid] },
        ours: { url: on.host.url + PATH, pids: [on.host.pid] },
      };
      log("  warm-up 2 s each");
      await load(sides.baseline.url, 2);
      await load(sides.ours.url, 2);
      const r = await alternate(rounds, {
        baseline: () => load(sides.baseline.url, seconds, sides.baseline.pids),
        ours: () => load(sides.ours.url, seconds, sides.ours.pids),
      }, log);
      // The scrape itself proves the "on" side measured something.
      const scraped = await fetch(`${on.host.url}/metrics`).then((res) => res.text());
      const count = /qntx_plugin_http_request_duration_seconds_count\{[^}]*plugin="hello"[^}]*status="200"\} (\d+)/.exec(scraped);
      log(`  metrics on: ${count?.[1] ?? "no"} requests counted`);
      const observeUs = [];
      for (let i = 0; i < rounds; i++) observeUs.push(await observeCostUs());
      return [
        { metric: "host CPU per request", unit: "µs", ours: pick(r.ours, "hostUs"), baseline: pick(r.baseline, "hostUs"), better: "lower", target: "≤ 1.03× baseline", pass: (o, b) => o <= 1.03 * b, note: "the host process alone (the plugin does the same work on both sides)" },
        { metric: "host CPU over the baseline's in the same pair", unit: "×", ours: r.ours.map((o, i) => o.hostUs / r.baseline[i].hostUs), better: "lower", target: "(info)", note: "each round of ours against the baseline round next to it" },
        { metric: "throughput", unit: "req/s", ours: pick(r.ours, "rps"), baseline: pick(r.baseline, "rps"), better: "higher", target: "(info)" },
        { metric: "metrics work per request, alone", unit: "µs", ours: observeUs, baseline: pick(r.baseline, "hostUs"), better: "lower", target: "≤ 3 % of baseline", pass: (o, b) => o <= 0.03 * b, note: "ours: one HTTP observation + one gRPC call record in a loop (CPU); baseline: the host's whole CPU per request with metrics off" },
      ];
    } finally {
      await off?.cleanup();
      await on.cleanup();
    }
  },
};
