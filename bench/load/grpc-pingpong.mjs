/**
 * Raw grpc-js unary latency on an idle channel: <samples> ExecuteJob calls to <address>, one
 * at a time, <gapMs> apart (the idle case's pattern without Pulse, SQLite or the SDK).
 * Usage: node grpc-pingpong.mjs <address> [samples] [gapMs]. Prints {samples, p50, p99} (ms).
 */
import * as grpc from "@grpc/grpc-js";
import { DomainPluginServiceClient, grpcOptions } from "@qntx/protocol";
import { quantile } from "../lib/stats.mjs";

const [address, samplesArg = "200", gapArg = "20"] = process.argv.slice(2);
const client = new DomainPluginServiceClient(address, grpc.credentials.createInsecure(), grpcOptions());
await new Promise((resolve, reject) => client.waitForReady(Date.now() + 5000, (err) => (err ? reject(err) : resolve())));
const call = () =>
  new Promise((resolve, reject) => {
    const request = { jobId: "job", handlerName: "noop", payload: Buffer.alloc(0), timeoutSecs: 300 };
    client.executeJob(request, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err) => (err ? reject(err) : resolve()));
  });
for (let i = 0; i < 20; i++) await call();
const latencies = [];
for (let i = 0; i < Number(samplesArg); i++) {
  await new Promise((r) => setTimeout(r, Number(gapArg)));
  const t0 = performance.now();
  await call();
  latencies.push(performance.now() - t0);
}
client.close();
console.log(JSON.stringify({ samples: latencies.length, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) }));
