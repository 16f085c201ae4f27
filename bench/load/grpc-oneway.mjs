/**
 * The floor of the `idle` case: one grpc-js ExecuteJob call at a time, <gapMs> apart, from this
 * process to <address> (the bench SDK plugin, whose no-op handler returns its wall-clock start
 * time), measuring call → handler start across the two processes, and the round trip.
 * Usage: node grpc-oneway.mjs <address> [samples] [gapMs]. Prints {samples, startP50, startP99, p50, p99} (ms).
 */
import * as grpc from "@grpc/grpc-js";
import { DomainPluginServiceClient, grpcOptions } from "@qntx/protocol";
import { quantile } from "../lib/stats.mjs";

const [address, samplesArg = "200", gapArg = "20"] = process.argv.slice(2);
const wallNow = () => performance.timeOrigin + performance.now();
const client = new DomainPluginServiceClient(address, grpc.credentials.createInsecure(), grpcOptions());
await new Promise((resolve, reject) => client.waitForReady(Date.now() + 5000, (err) => (err ? reject(err) : resolve())));
const call = () =>
  new Promise((resolve, reject) => {
    const request = { jobId: "job", handlerName: "noop", payload: Buffer.alloc(0), timeoutSecs: 300 };
    client.executeJob(request, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => {
      if (err || !res.success) reject(err ?? new Error(res.error));
      else resolve(JSON.parse(Buffer.from(res.result).toString("utf8")).startedAt);
    });
  });
for (let i = 0; i < 20; i++) await call();
const start = [];
const total = [];
for (let i = 0; i < Number(samplesArg); i++) {
  await new Promise((r) => setTimeout(r, Number(gapArg)));
  const t0 = wallNow();
  const startedAt = await call();
  total.push(wallNow() - t0);
  start.push(startedAt - t0);
}
client.close();
console.log(JSON.stringify({ samples: total.length, startP50: quantile(start, 0.5), startP99: quantile(start, 0.99), p50: quantile(total, 0.5), p99: quantile(total, 0.99) }));
