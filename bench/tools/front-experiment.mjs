#!/usr/bin/env node
/**
 * Diagnostic for open finding 6 (not part of `pnpm bench`): where the one-connection latency
 * gap of proxy-1 sits. Fronts, alternating, one connection each (load/http-pingpong.mjs):
 * node:http two-hop → bare echo; node:http two-hop → SDK hello; fastify two-hop → SDK hello;
 * the host → SDK hello. Prints p50 (ms) per round and the medians.
 * Usage: node bench/tools/front-experiment.mjs [rounds=5] [seconds=3]
 */
import { join } from "node:path";
import { BENCH_DIR, FIXTURES, runJson, spawnWithPort, stopChild } from "../lib/procs.mjs";
import { HELLO_PLUGIN, startHostWith } from "../lib/hosts.mjs";
import { quantile } from "../lib/stats.mjs";

const [roundsArg = "5", secondsArg = "3"] = process.argv.slice(2);
const echo = await spawnWithPort(join(FIXTURES, "bare-echo.mjs"));
const hello = await spawnWithPort(HELLO_PLUGIN);
const front = (script, port) => spawnWithPort(join(FIXTURES, script), [], { env: { ECHO_ADDRESS: `127.0.0.1:${port}` } });
const fronts = [await front("two-hop.mjs", echo.port), await front("two-hop.mjs", hello.port), await front("fastify-two-hop.mjs", hello.port)];
const host = await startHostWith("front", [{ name: "hello", binary: HELLO_PLUGIN }]);
const urls = {
  "node:http → bare": `http://127.0.0.1:${fronts[0].port}/api/hello/hello`,
  "node:http → SDK": `http://127.0.0.1:${fronts[1].port}/api/hello/hello`,
  "fastify → SDK": `http://127.0.0.1:${fronts[2].port}/api/hello/hello`,
  "host → SDK": `${host.host.url}/api/hello/hello`,
};
const p50 = {};
try {
  for (let r = 0; r < Number(roundsArg); r++) {
    for (const [name, url] of Object.entries(urls)) {
      const x = await runJson(join(BENCH_DIR, "load", "http-pingpong.mjs"), [url, secondsArg, 1]);
      (p50[name] ??= []).push(x.p50);
    }
  }
  for (const [name, values] of Object.entries(p50)) console.log(`${name.padEnd(18)} median p50 ${quantile(values, 0.5).toFixed(3)} ms   rounds ${values.map((v) => v.toFixed(3)).join(" ")}`);
} finally {
  for (const c of [echo, hello, ...fronts]) await stopChild(c.child);
  await host.cleanup();
}
