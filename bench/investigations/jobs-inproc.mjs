#!/usr/bin/env node
/**
 * Diagnostic for the `jobs` case (not part of `pnpm bench`): the same run with the host in
 * THIS process, so node flags apply to it directly (`--cpu-prof`, `--heap-prof`,
 * `--trace-gc`). Starts a host with the bench SDK plugin, enqueues N no-op jobs in batches of
 * 1 000 and waits for the last `completed`; prints jobs/s, host CPU per job and GC count, and
 * what dispatch-ahead did (counted by wrapping the pool's dispatcher: jobs started from the
 * ready list, calls in flight at each finish transaction). BENCH_NO_AHEAD=1 turns it off.
 * Usage: node [flags] bench/investigations/jobs-inproc.mjs [n=20000] [concurrency=16]
 */
import { PerformanceObserver } from "node:perf_hooks";
import { startInProcessHost } from "../lib/inproc-host.mjs";

const [nArg = "20000", cArg = "16"] = process.argv.slice(2);
const N = Number(nArg);
process.env.QNTX_LOG_LEVEL = "warn";
const { host, cleanup } = await startInProcessHost("jobs-inproc", { pulse_concurrency: Number(cArg) });

let gcs = 0;
let gcMs = 0;
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcs++;
    gcMs += e.duration;
  }
});
observer.observe({ entryTypes: ["gc"] });

// Diagnostics reach into the pool (not an API): its dispatcher and settings.
const dispatcher = host.pulse.pool.dispatcher;
if (process.env.BENCH_NO_AHEAD === "1") dispatcher.core.fastRunMs = 0;
const ahead = { fromReady: 0, flushes: 0, inFlightAtFlush: 0 };
const startReady = dispatcher.startReady.bind(dispatcher);
dispatcher.startReady = () => {
  const before = dispatcher.runs.size;
  startReady();
  ahead.fromReady += dispatcher.runs.size - before;
};
const takeAhead = dispatcher.takeAhead.bind(dispatcher);
dispatcher.takeAhead = () => {
  ahead.flushes++;
  ahead.inFlightAtFlush += dispatcher.runs.size;
  return takeAhead();
};

let completed = 0;
const done = new Promise((resolve) => host.pulse.on("job", (job) => job.status === "completed" && ++completed === N && resolve()));
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < N; i += 1000) {
  await host.pulse.enqueueMany(Array.from({ length: Math.min(1000, N - i) }, () => ({ handler: "benchp/noop" })));
  await new Promise((r) => setImmediate(r));
}
await done;
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
observer.disconnect();
console.log(JSON.stringify({
  jobs: N, perSec: Math.round(N / (ms / 1000)), hostCpuUsPerJob: Math.round((cpu.user + cpu.system) / N), gcs, gcMs: Math.round(gcMs),
  startedFromReady: ahead.fromReady, finishTransactions: ahead.flushes, callsInFlightAtFinish: +(ahead.inFlightAtFlush / Math.max(1, ahead.flushes)).toFixed(1),
}));
await host.close();
cleanup();
