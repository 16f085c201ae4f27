#!/usr/bin/env node
/**
 * Diagnostic for the `idle` case (not part of `pnpm bench`): where does enqueue → handler start
 * go? Starts a host in this process with the bench SDK plugin, enqueues one job at a time with
 * a gap, and splits each job's latency into
 *   enqueue → ExecuteJob dispatched (host: wake, claim, executor),
 *   dispatched → handler start (grpc-js client → socket → plugin → SDK → handler),
 *   handler start → recorded completed (answer back, settle, finish transaction).
 * Usage: node bench/tools/idle-trace.mjs [samples=200] [gapMs=20]
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger, loadConfig, startHost } from "@qntx/host";
import { hostToml, BENCH_PLUGIN } from "../lib/hosts.mjs";
import { tempDir } from "../lib/procs.mjs";
import { quantile } from "../lib/stats.mjs";

const [samplesArg = "200", gapArg = "20"] = process.argv.slice(2);
const samples = Number(samplesArg);
const gapMs = Number(gapArg);
const wallNow = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const { dir, cleanup } = tempDir("idle-trace");
const configPath = join(dir, "am.plugins.toml");
writeFileSync(configPath, hostToml(dir, [{ name: "benchp", binary: BENCH_PLUGIN }]));
process.env.QNTX_LOG_LEVEL = "warn";
const host = await startHost(loadConfig({ configPath, cwd: dir }), createLogger({ pretty: false }));
await host.ready;

// Stamp the moment the executor hands the job to the plugin's proxy.
const plugin = host.registry.runningPlugin("benchp");
const dispatched = new Map();
const original = plugin.executeJob.bind(plugin);
plugin.executeJob = (request, options) => {
  dispatched.set(request.jobId, wallNow());
  return original(request, options);
};

const seg = { toDispatch: [], toStart: [], startToDone: [], total: [] };
for (let i = 0; i < samples; i++) {
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
}
await host.close();
cleanup();
const row = (name, v) => `${name.padEnd(34)} p50 ${quantile(v, 0.5).toFixed(3)}  p90 ${quantile(v, 0.9).toFixed(3)}  p99 ${quantile(v, 0.99).toFixed(3)} ms`;
console.log(row("enqueue → dispatched", seg.toDispatch));
console.log(row("dispatched → handler start", seg.toStart));
console.log(row("enqueue → handler start", seg.total));
console.log(row("handler start → completed event", seg.startToDone));
