#!/usr/bin/env node
/**
 * Diagnostic for the `idle` case (not part of `pnpm bench`): runs the case's own host process
 * (bench/lib/host-runner.mjs through startHostWith, logging at info as in the case) and its
 * `idle` command, `rounds` rounds of 200 jobs 20 ms apart, and prints per round the p99 the
 * case reports (nearest rank: the 3rd slowest of 200) and the slowest jobs with their index in
 * the round, so cold-start jobs (low indices) and periodic ones can be told apart.
 * idleBeforeMs: the host sits idle that long after start-up before the first round, as in the
 * case, where the floor's round (about 5 s) runs first.
 * Usage: node bench/investigations/idle-case.mjs [rounds=3] [samples=200] [gapMs=20] [idleBeforeMs=0]
 */
import { BENCH_PLUGIN, startHostWith } from "../lib/hosts.mjs";
import { quantile } from "../lib/stats.mjs";

const [roundsArg = "3", samplesArg = "200", gapArg = "20", idleArg = "0"] = process.argv.slice(2);
const s = await startHostWith("idle-case", [{ name: "benchp", binary: BENCH_PLUGIN }]);
try {
  await new Promise((resolve) => setTimeout(resolve, Number(idleArg)));
  for (let r = 0; r < Number(roundsArg); r++) {
    const x = await s.host.request({ type: "idle", handler: "benchp/noop", samples: Number(samplesArg), gapMs: Number(gapArg) });
    const slow = x.startLatency.map((ms, i) => ({ ms, i })).sort((a, b) => b.ms - a.ms).slice(0, 8);
    console.log(`round ${r + 1}: start p50 ${quantile(x.startLatency, 0.5).toFixed(2)} p99 ${quantile(x.startLatency, 0.99).toFixed(2)} ms; slowest (ms@index): ${slow.map((j) => `${j.ms.toFixed(2)}@${j.i}`).join(" ")}`);
  }
} finally {
  await s.cleanup();
}
