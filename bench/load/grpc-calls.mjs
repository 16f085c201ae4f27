/**
 * Raw grpc-js unary load: N ExecuteJob calls to <address> keeping <concurrency> in flight,
 * on one channel (as the host has one per plugin). Usage: node grpc-calls.mjs <address> <n>
 * <concurrency> [payloadBytes=0 [handler=noop]]: with payloadBytes, each call carries a JSON
 * payload of about that size (lib/job-payload.mjs) and its result is read back as JSON, as
 * the host reads a job's result. Prints {calls, ms, perSec, errors, cpuMs (this client's)}.
 */
import * as grpc from "@grpc/grpc-js";
import { DomainPluginServiceClient, grpcOptions } from "@qntx/protocol";
import { jobPayload } from "../lib/job-payload.mjs";

const [address, nArg = "50000", cArg = "16", bytesArg = "0", handlerName = "noop"] = process.argv.slice(2);
const payloadBytes = Number(bytesArg);
const n = Number(nArg);
const concurrency = Number(cArg);
const client = new DomainPluginServiceClient(address, grpc.credentials.createInsecure(), grpcOptions());
await new Promise((resolve, reject) => client.waitForReady(Date.now() + 5000, (err) => (err ? reject(err) : resolve())));

let next = 0;
let errors = 0;
const call = (i) =>
  new Promise((resolve) => {
    const payload = payloadBytes > 0 ? Buffer.from(JSON.stringify(jobPayload(payloadBytes, i)), "utf8") : Buffer.alloc(0);
    const request = { jobId: `job-${i}`, handlerName, payload, timeoutSecs: 300 };
    client.executeJob(request, new grpc.Metadata(), { deadline: Date.now() + 300_000 }, (err, res) => {
      if (err || !res.success) errors++;
      else if (payloadBytes > 0) JSON.parse(res.result.toString("utf8"));
      resolve();
    });
  });
async function worker() {
  while (next < n) await call(next++);
}
// BENCH_WAVES=1: issue `concurrency` calls, wait for all, repeat (the lockstep a batch-claiming
// queue falls into), instead of one independent loop per slot. Diagnostic only.
async function waves() {
  while (next < n) {
    const wave = [];
    for (let k = 0; k < concurrency && next < n; k++) wave.push(call(next++));
    await Promise.all(wave);
  }
}
// Warm the channel first.
for (let i = 0; i < 200; i++) await call(-1);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
if (process.env.BENCH_WAVES) await waves();
else await Promise.all(Array.from({ length: concurrency }, worker));
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
client.close();
console.log(JSON.stringify({ calls: n, ms, perSec: n / (ms / 1000), errors, cpuMs: (cpu.user + cpu.system) / 1000 }));
