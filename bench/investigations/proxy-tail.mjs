#!/usr/bin/env node
/**
 * Where proxy-64's tail comes from: runs, side by side for the whole run, the host with the
 * SDK `hello` plugin, two-hop with the bare echo (the proxy-64 baseline), and two-hop with the
 * SDK `hello` plugin spawned directly (the same front as the baseline, our plugin behind it).
 * Rotating rounds of autocannon at 64 connections; prints per side the median req/s and the
 * median latency percentiles, and per process the CPU per request.
 *
 * Usage: node bench/investigations/proxy-tail.mjs [rounds=6] [seconds=3] [connections=64]
 */
import { join } from "node:path";
import { BENCH_DIR, FIXTURES, runJson, spawnWithPort, stopChild, withCpu } from "../lib/procs.mjs";
import { HELLO_PLUGIN, startHostWith } from "../lib/hosts.mjs";
import { quantile } from "../lib/stats.mjs";

const [roundsArg = "6", secondsArg = "3", connectionsArg = "64"] = process.argv.slice(2);
const AUTOCANNON = join(BENCH_DIR, "node_modules", "autocannon", "autocannon.js");
const PATH = "/api/hello/hello";

const ours = await startHostWith("proxy-tail", [{ name: "hello", binary: HELLO_PLUGIN }]);
const echo = await spawnWithPort(join(FIXTURES, "bare-echo.mjs"));
const twoHop = await spawnWithPort(join(FIXTURES, "two-hop.mjs"), [], { env: { ECHO_ADDRESS: `127.0.0.1:${echo.port}` } });
const hello = await spawnWithPort(HELLO_PLUGIN);
const twoHopSdk = await spawnWithPort(join(FIXTURES, "two-hop.mjs"), [], { env: { ECHO_ADDRESS: `127.0.0.1:${hello.port}` } });
// BENCH_TAIL_IN_HOST=1: a fourth side, two-hop's front inside a process running a whole host.
const inHost = process.env.BENCH_TAIL_IN_HOST === "1" ? await spawnWithPort(join(FIXTURES, "two-hop-in-host.mjs"), [], { env: { ECHO_ADDRESS: `127.0.0.1:${echo.port}`, QNTX_LOG_LEVEL: "warn" } }) : undefined;
const sides = {
  "two-hop+echo": { url: `http://127.0.0.1:${twoHop.port}${PATH}`, pids: [twoHop.child.pid, echo.child.pid] },
  "two-hop+sdk": { url: `http://127.0.0.1:${twoHopSdk.port}${PATH}`, pids: [twoHopSdk.child.pid, hello.child.pid] },
  "host+sdk": { url: ours.host.url + PATH, pids: [ours.host.pid, ours.ready.plugins[0].pid] },
  ...(inHost ? { "two-hop-in-host+echo": { url: `http://127.0.0.1:${inHost.port}${PATH}`, pids: [inHost.child.pid, echo.child.pid] } } : {}),
};
const keys = ["rps", "p50", "p90", "p97_5", "p99", "max", "frontUs", "pluginUs"];
const results = Object.fromEntries(Object.keys(sides).map((k) => [k, Object.fromEntries(keys.map((m) => [m, []]))]));
try {
  const names = Object.keys(sides);
  for (const name of names) await runJson(AUTOCANNON, ["-c", connectionsArg, "-d", "1", "--json", sides[name].url]);
  for (let r = 0; r < Number(roundsArg); r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const name of order) {
      const side = sides[name];
      const [x, , each] = await withCpu(side.pids, () => runJson(AUTOCANNON, ["-c", connectionsArg, "-d", secondsArg, "--json", side.url]));
      const n = x.requests.total;
      const row = { rps: n / x.duration, ...x.latency, frontUs: (each[0] * 1000) / n, pluginUs: (each[1] * 1000) / n };
      for (const m of keys) results[name][m].push(row[m]);
    }
  }
  console.log(`rounds ${roundsArg} × ${secondsArg} s, ${connectionsArg} connections; medians`);
  console.log(["side", ...keys].join("\t"));
  for (const [name, r] of Object.entries(results)) console.log([name, ...keys.map((m) => quantile(r[m], 0.5).toFixed(m === "rps" ? 0 : 1))].join("\t"));
  // Per-round differences against the baseline measured in the same rotation.
  const base = results["two-hop+echo"];
  for (const name of Object.keys(sides).slice(1)) {
    const r = results[name];
    const rps = r.rps.map((v, i) => v / base.rps[i]);
    const p99 = r.p99.map((v, i) => v - base.p99[i]);
    console.log(`${name} vs two-hop+echo per round: req/s ratio median ${quantile(rps, 0.5).toFixed(3)} (q25 ${quantile(rps, 0.25).toFixed(3)}, q75 ${quantile(rps, 0.75).toFixed(3)}); p99 difference median ${quantile(p99, 0.5).toFixed(1)} ms (q25 ${quantile(p99, 0.25).toFixed(1)}, q75 ${quantile(p99, 0.75).toFixed(1)})`);
  }
} finally {
  for (const c of [inHost, twoHopSdk, hello, twoHop, echo]) if (c) await stopChild(c.child);
  await ours.cleanup();
}
