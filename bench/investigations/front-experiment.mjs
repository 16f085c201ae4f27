#!/usr/bin/env node
/**
 * Diagnostic for open finding 6 (not part of `pnpm bench`): where the one-connection latency
 * gap of proxy-1 sits. Fronts, alternating, one connection each (load/http-pingpong.mjs):
 * node:http two-hop → bare echo; node:http two-hop → SDK hello; fastify two-hop → SDK hello;
 * the host → SDK hello. Prints the median p50 (ms) and the median CPU time per request of the
 * front process and of the plugin process (µs; /proc ticks, approximate, warm-up scaled out).
 * Usage: node bench/investigations/front-experiment.mjs [rounds=5] [seconds=3]
 */
import { join } from "node:path";
import { BENCH_DIR, FIXTURES, runJson, spawnWithPort, stopChild, withCpu } from "../lib/procs.mjs";
import { HELLO_PLUGIN, startHostWith } from "../lib/hosts.mjs";
import { quantile } from "../lib/stats.mjs";

const [roundsArg = "5", secondsArg = "3"] = process.argv.slice(2);
const echo = await spawnWithPort(join(FIXTURES, "bare-echo.mjs"));
const hello = await spawnWithPort(HELLO_PLUGIN);
const front = (script, port) => spawnWithPort(join(FIXTURES, script), [], { env: { ECHO_ADDRESS: `127.0.0.1:${port}` } });
const fronts = [await front("two-hop.mjs", echo.port), await front("two-hop.mjs", hello.port), await front("fastify-two-hop.mjs", hello.port)];
const host = await startHostWith("front", [{ name: "hello", binary: HELLO_PLUGIN }]);
// node:http two-hop to the very plugin process the host spawned: separates the host's own
// share from anything particular to a plugin that runs under a host.
const hostPlugin = host.ready.plugins[0];
const { plugin: { address: hostPluginAddress } } = await (await fetch(`${host.host.url}/api/plugins/hello`)).json();
const toHostPlugin = await spawnWithPort(join(FIXTURES, "two-hop.mjs"), [], { env: { ECHO_ADDRESS: hostPluginAddress } });
// Each front's URL and its two serving processes (front, plugin), whose CPU time per request
// is reported separately: it says which side of the gap is the front's and which the plugin's.
const fronts2 = {
  "node:http → bare": [`http://127.0.0.1:${fronts[0].port}/api/hello/hello`, fronts[0].child.pid, echo.child.pid],
  "node:http → SDK": [`http://127.0.0.1:${fronts[1].port}/api/hello/hello`, fronts[1].child.pid, hello.child.pid],
  "fastify → SDK": [`http://127.0.0.1:${fronts[2].port}/api/hello/hello`, fronts[2].child.pid, hello.child.pid],
  "node:http → host's SDK": [`http://127.0.0.1:${toHostPlugin.port}/api/hello/hello`, toHostPlugin.child.pid, hostPlugin.pid],
  "host → SDK": [`${host.host.url}/api/hello/hello`, host.host.pid, hostPlugin.pid],
};
const p50 = {};
const cpu = {};
try {
  for (let r = 0; r < Number(roundsArg); r++) {
    for (const [name, [url, frontPid, pluginPid]] of Object.entries(fronts2)) {
      const [x, , [frontMs, pluginMs]] = await withCpu([frontPid, pluginPid], () => runJson(join(BENCH_DIR, "load", "http-pingpong.mjs"), [url, secondsArg, 1]));
      (p50[name] ??= []).push(x.p50);
      // The warm-up second's requests are not counted in x.requests: scale by the measured share.
      const perRequest = (ms) => (ms * 1000 * (Number(secondsArg) / (Number(secondsArg) + 1))) / x.requests;
      (cpu[name] ??= { front: [], plugin: [] }).front.push(perRequest(frontMs));
      cpu[name].plugin.push(perRequest(pluginMs));
    }
  }
  for (const [name, values] of Object.entries(p50)) {
    const c = cpu[name];
    console.log(`${name.padEnd(24)} median p50 ${quantile(values, 0.5).toFixed(3)} ms   CPU/request front ${quantile(c.front, 0.5).toFixed(0)} µs, plugin ${quantile(c.plugin, 0.5).toFixed(0)} µs   rounds ${values.map((v) => v.toFixed(3)).join(" ")}`);
  }
} finally {
  for (const c of [echo, hello, ...fronts, toHostPlugin]) await stopChild(c.child);
  await host.cleanup();
}
