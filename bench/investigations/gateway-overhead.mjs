#!/usr/bin/env node
/**
 * Diagnostic for finding 6 (not part of `pnpm bench`): what the host's gateway costs per
 * request without gRPC. Three fronts (bench/investigations/gateway-front.mjs) answer GET
 * /api/hello/hello after a microtask: node:http, a bare fastify route, and the host's real
 * gateway with an in-process plugin. Alternating, one connection each (load/http-pingpong.mjs),
 * then autocannon with 16 connections for CPU time per request. Prints medians.
 * Usage: node bench/investigations/gateway-overhead.mjs [rounds=5] [seconds=2]
 */
import { join } from "node:path";
import { BENCH_DIR, runJson, spawnWithPort, stopChild, withCpu } from "../lib/procs.mjs";
import { quantile } from "../lib/stats.mjs";

const [roundsArg = "5", secondsArg = "2"] = process.argv.slice(2);
const AUTOCANNON = join(BENCH_DIR, "node_modules", "autocannon", "autocannon.js");
const fronts = {};
for (const mode of ["node", "fastify", "gateway"]) fronts[mode] = await spawnWithPort(join(BENCH_DIR, "investigations", "gateway-front.mjs"), [mode]);
const p50 = {};
const cpu = {};
try {
  for (let r = 0; r < Number(roundsArg); r++) {
    for (const [mode, front] of Object.entries(fronts)) {
      const url = `http://127.0.0.1:${front.port}/api/hello/hello`;
      const x = await runJson(join(BENCH_DIR, "load", "http-pingpong.mjs"), [url, secondsArg, 0.5]);
      (p50[mode] ??= []).push(x.p50);
      const [a, cpuMs] = await withCpu([front.child.pid], () => runJson(AUTOCANNON, ["-c", "16", "-d", secondsArg, "--json", url]));
      (cpu[mode] ??= []).push((cpuMs * 1000) / a.requests.total);
    }
  }
  for (const mode of Object.keys(fronts)) {
    console.log(`${mode.padEnd(8)} p50 ${(quantile(p50[mode], 0.5) * 1000).toFixed(0)} µs (${p50[mode].map((v) => (v * 1000).toFixed(0)).join(" ")})   CPU/request ${quantile(cpu[mode], 0.5).toFixed(1)} µs (${cpu[mode].map((v) => v.toFixed(0)).join(" ")})`);
  }
} finally {
  for (const f of Object.values(fronts)) await stopChild(f.child);
}
