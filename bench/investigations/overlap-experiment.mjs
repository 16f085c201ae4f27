#!/usr/bin/env node
/**
 * Diagnostic for open finding 1 (not part of `pnpm bench`): does dispatching the next job
 * before recording the finished ones help? A client keeps C ExecuteJob calls in flight to the
 * bench SDK plugin (its own process) and, once per event-loop turn, spends `costUs` of
 * synchronous CPU per finished call (standing in for Pulse's finish + claim transaction).
 *   lockstep: record, then dispatch the replacements (what WorkerPool does today);
 *   ahead:    dispatch a replacement as each answer arrives, record in the next turn.
 * Usage: node bench/investigations/overlap-experiment.mjs [n=20000] [concurrency=16] [costUs=60]
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { DomainPluginServiceClient, grpcOptions } from "@qntx/protocol";
import { FIXTURES, spawnWithPort, stopChild } from "../lib/procs.mjs";

const [nArg = "20000", cArg = "16", costArg = "60"] = process.argv.slice(2);
const N = Number(nArg);
const C = Number(cArg);
const COST = Number(costArg);

const plugin = await spawnWithPort(join(FIXTURES, "sdk-plugin.mjs"));
const client = new DomainPluginServiceClient(`127.0.0.1:${plugin.port}`, grpc.credentials.createInsecure(), grpcOptions());
const busy = (us) => {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
};

function run(mode) {
  return new Promise((resolve) => {
    let sent = 0;
    let done = 0;
    let pending = 0;
    let flushQueued = false;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const send = () => {
      if (sent >= N) return;
      sent++;
      client.executeJob({ jobId: `j${sent}`, handlerName: "noop", payload: Buffer.alloc(0), timeoutSecs: 300 }, new grpc.Metadata(), { deadline: Date.now() + 60_000 }, (err, res) => {
        if (err || !res.success) throw err ?? new Error(res.error);
        pending++;
        if (mode === "ahead") send();
        if (!flushQueued) {
          flushQueued = true;
          setImmediate(flush);
        }
      });
    };
    const flush = () => {
      flushQueued = false;
      const finished = pending;
      pending = 0;
      busy(COST * finished);
      done += finished;
      if (mode === "lockstep") for (let i = 0; i < finished; i++) send();
      if (done >= N) {
        const cpu = process.cpuUsage(cpu0);
        resolve({ mode, perSec: Math.round(N / ((performance.now() - t0) / 1000)), clientCpuUsPerCall: Math.round((cpu.user + cpu.system) / N) });
      }
    };
    for (let i = 0; i < C; i++) send();
  });
}

for (const mode of ["lockstep", "ahead", "lockstep", "ahead"]) console.log(JSON.stringify(await run(mode)));
client.close();
await stopChild(plugin.child);
