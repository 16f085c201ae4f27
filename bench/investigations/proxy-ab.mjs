#!/usr/bin/env node
/**
 * A/B of the one-connection proxy latency (proxy-1) between two built checkouts, for a machine
 * whose speed drifts within a minute: both hosts (each from its own tree, each with its own
 * `hello` plugin) and the two-hop baseline run side by side for the whole run, and short
 * rounds (one per side, in rotating order) alternate many times. Prints, per side, the median
 * p50 and the median of the per-round ratios to two-hop measured in the same rotation.
 *
 * Usage: node bench/investigations/proxy-ab.mjs <treeA> <treeB> [rounds=20] [seconds=1]
 * Pin everything to one core with `taskset -c 1` to take cross-core wake-ups out of the figures.
 */
import { resolve, join } from "node:path";
import { BENCH_DIR, FIXTURES, runJson, spawnWithPort, stopChild } from "../lib/procs.mjs";
import { quantile } from "../lib/stats.mjs";

const [treeA, treeB, roundsArg = "20", secondsArg = "1"] = process.argv.slice(2);
if (!treeA || !treeB) {
  console.error("usage: node bench/investigations/proxy-ab.mjs <treeA> <treeB> [rounds=20] [seconds=1]");
  process.exit(2);
}
const PATH = "/api/hello/hello";
const hostIn = async (tree) => {
  const { startHostWith, HELLO_PLUGIN } = await import(join(resolve(tree), "bench", "lib", "hosts.mjs"));
  return startHostWith("proxy-ab", [{ name: "hello", binary: HELLO_PLUGIN }]);
};
const a = await hostIn(treeA);
const b = await hostIn(treeB);
const echo = await spawnWithPort(join(FIXTURES, "bare-echo.mjs"));
const twoHop = await spawnWithPort(join(FIXTURES, "two-hop.mjs"), [], { env: { ECHO_ADDRESS: `127.0.0.1:${echo.port}` } });
const urls = { twoHop: `http://127.0.0.1:${twoHop.port}${PATH}`, A: a.host.url + PATH, B: b.host.url + PATH };
const p50 = { twoHop: [], A: [], B: [] };
const ratio = { A: [], B: [] };
try {
  const sides = Object.keys(urls);
  for (let r = 0; r < Number(roundsArg); r++) {
    // Rotate the order so no side always follows the same one.
    const order = sides.map((_, i) => sides[(i + r) % sides.length]);
    const round = {};
    for (const side of order) {
      const x = await runJson(join(BENCH_DIR, "load", "http-pingpong.mjs"), [urls[side], secondsArg, 0.2]);
      round[side] = x.p50;
      p50[side].push(x.p50);
    }
    ratio.A.push(round.A / round.twoHop);
    ratio.B.push(round.B / round.twoHop);
  }
  const med = (v) => quantile(v, 0.5);
  console.log(`rounds ${roundsArg} × ${secondsArg} s per side`);
  console.log(`two-hop p50 ${med(p50.twoHop).toFixed(3)} ms`);
  for (const side of ["A", "B"]) {
    console.log(`${side} p50 ${med(p50[side]).toFixed(3)} ms  ratio to two-hop: median ${med(ratio[side]).toFixed(3)} (q25 ${quantile(ratio[side], 0.25).toFixed(3)}, q75 ${quantile(ratio[side], 0.75).toFixed(3)})`);
  }
  const perRound = ratio.B.map((v, i) => v / ratio.A[i]);
  console.log(`B/A per round: median ${med(perRound).toFixed(3)} (q25 ${quantile(perRound, 0.25).toFixed(3)}, q75 ${quantile(perRound, 0.75).toFixed(3)})`);
} finally {
  await stopChild(twoHop.child);
  await stopChild(echo.child);
  await a.cleanup();
  await b.cleanup();
}
