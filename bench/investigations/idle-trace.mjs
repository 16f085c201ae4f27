#!/usr/bin/env node
/**
 * Diagnostic for the `idle` case (not part of `pnpm bench`): where does enqueue → handler start
 * go? Starts a host in this process with the bench SDK plugin, enqueues one job at a time with
 * a gap, and splits each job's latency into
 *   enqueue → ExecuteJob dispatched (host: wake, claim, executor),
 *   dispatched → handler start (grpc-js client → socket → plugin → SDK → handler),
 *   handler start → recorded completed (answer back, settle, finish transaction).
 * For the tail it also records, per job, the enqueue + claim transaction's time, whether the
 * WAL shrank (a checkpoint ran) during the job, and GC pauses (PerformanceObserver 'gc'), and
 * prints the slowest jobs with those next to them.
 * Between the jobs it makes, with the same gap, the same number of raw ExecuteJob calls from
 * this process through the host's own channel to the plugin (no Pulse, no SQLite): the floor of
 * the same hop from the same process, so "enqueue → handler start" minus it is what Pulse adds.
 * With raw=0 it makes no raw calls: the jobs alone, 20 ms apart, exactly the `idle` case's pattern.
 * Usage: node bench/investigations/idle-trace.mjs [samples=200] [gapMs=20] [raw=1]
 */
import { randomUUID } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { constants as perfConstants } from "node:perf_hooks";
import { PerformanceObserver } from "node:perf_hooks";
import { join } from "node:path";
import { startInProcessHost } from "../lib/inproc-host.mjs";
import { quantile } from "../lib/stats.mjs";

const [samplesArg = "200", gapArg = "20", rawArg = "1"] = process.argv.slice(2);
const withRaw = rawArg !== "0";
const samples = Number(samplesArg);
const gapMs = Number(gapArg);
const wallNow = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const { host, dir, cleanup } = await startInProcessHost("idle-trace");

// Stamp the moment the executor hands the job to the plugin's proxy.
const plugin = host.registry.runningPlugin("benchp");
const dispatched = new Map();
const original = plugin.executeJob.bind(plugin);
plugin.executeJob = (request, options) => {
  dispatched.set(request.jobId, wallNow());
  return original(request, options);
};

// The one enqueue + claim transaction of each job (the store is synchronous under its promise).
const store = host.pulse.store;
let txMs = 0;
const enqueueAndClaim = store.enqueueAndClaim.bind(store);
store.enqueueAndClaim = (...args) => {
  const t = performance.now();
  const out = enqueueAndClaim(...args);
  txMs = performance.now() - t;
  return out;
};
const walPath = join(dir, "qntx.db-wal");
// A checkpoint that empties the WAL makes the next write restart it with a new salt (header bytes 16–23).
const walSalt = () => {
  const b = Buffer.alloc(8);
  try {
    const fd = openSync(walPath, "r");
    readSync(fd, b, 0, 8, 16);
    closeSync(fd);
  } catch {
    /* no WAL yet */
  }
  return b.toString("hex");
};
const GC_KINDS = { [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: "major", [perfConstants.NODE_PERFORMANCE_GC_MINOR]: "minor", [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental", [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb" };
let gcKinds = [];
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcMs += e.duration;
    gcKinds.push(`${GC_KINDS[e.detail?.kind] ?? e.detail?.kind}:${e.duration.toFixed(1)}`);
  }
}).observe({ entryTypes: ["gc"] });

const seg = { toDispatch: [], toStart: [], startToDone: [], total: [], tx: [], direct: [] };
const perJob = [];
for (let i = 0; i < samples; i++) {
  // The in-host floor, alternating with the jobs so both see the machine alike.
  if (withRaw) {
    await sleep(gapMs);
    const c0 = wallNow();
    const res = await original({ jobId: randomUUID(), handlerName: "noop", payload: Buffer.alloc(0), timeoutSecs: 300 }, { deadline: Date.now() + 10_000 });
    seg.direct.push(JSON.parse(Buffer.from(res.result).toString("utf8")).startedAt - c0);
  }
  await sleep(gapMs);
  const id = randomUUID();
  const finished = new Promise((resolve) => {
    const onJob = (job) => {
      if (job.id !== id || (job.status !== "completed" && job.status !== "failed")) return;
      host.pulse.off("job", onJob);
      resolve([job, wallNow()]);
    };
    host.pulse.on("job", onJob);
  });
  const wal0 = walSalt();
  gcMs = 0;
  gcKinds = [];
  const t0 = wallNow();
  await host.pulse.enqueue({ handler: "benchp/noop", id });
  const [job, t3] = await finished;
  if (job.status !== "completed") throw new Error(`job ${id} ${job.status}: ${job.error}`);
  const started = JSON.parse(Buffer.from(job.result).toString("utf8")).startedAt;
  const t1 = dispatched.get(id);
  dispatched.delete(id);
  seg.toDispatch.push(t1 - t0);
  seg.toStart.push(started - t1);
  seg.startToDone.push(t3 - started);
  seg.total.push(started - t0);
  seg.tx.push(txMs);
  perJob.push({ i, total: started - t0, toDispatch: t1 - t0, toStart: started - t1, tx: txMs, gcMs, gcKinds, walRestarted: walSalt() !== wal0 });
}
await host.close();
cleanup();
const row = (name, v) => `${name.padEnd(34)} p50 ${quantile(v, 0.5).toFixed(3)}  p90 ${quantile(v, 0.9).toFixed(3)}  p99 ${quantile(v, 0.99).toFixed(3)} ms`;
console.log(row("enqueue → dispatched", seg.toDispatch));
console.log(row("  of it: enqueue + claim tx", seg.tx));
console.log(row("dispatched → handler start", seg.toStart));
console.log(row("enqueue → handler start", seg.total));
console.log(row("raw ExecuteJob → handler start", seg.direct));
console.log(row("handler start → completed event", seg.startToDone));
const slow = perJob.sort((a, b) => b.total - a.total).slice(0, Math.max(3, Math.ceil(samples / 50)));
const restarts = perJob.filter((j) => j.walRestarted).map((j) => j.tx.toFixed(2));
console.log(`enqueue + claim tx of the jobs during which the WAL restarted (ms): ${restarts.join(" ") || "none"}`);
console.log(`slowest (#index, ms): total = to dispatch + to start | tx | host GC during the job | WAL restarted (after a checkpoint); ${perJob.filter((j) => j.walRestarted).length} restarts in ${samples} jobs`);
for (const j of slow) {
  console.log(`  #${j.i} ${j.total.toFixed(2)} = ${j.toDispatch.toFixed(2)} + ${j.toStart.toFixed(2)} | tx ${j.tx.toFixed(2)} | gc ${j.gcMs.toFixed(2)} ${j.gcKinds.join(" ")} | ${j.walRestarted ? "WAL restarted" : "-"}`);
}
