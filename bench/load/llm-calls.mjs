/**
 * LLMService.Chat load: for <seconds>, keeps <concurrency> Chat calls in flight to <address>
 * on one channel, sending <token> as auth_token ("" for a provider called directly, which
 * ignores it). Usage: node llm-calls.mjs <address> <seconds> <concurrency> [token]
 * Prints {calls, perSec, p50, p99 (ms per call), errors, cpuMs (this client's)}.
 */
import * as grpc from "@grpc/grpc-js";
import { grpcOptions, LLMChatRequest, LLMServiceClient } from "@qntx/protocol";

const [address, secondsArg = "3", cArg = "16", token = ""] = process.argv.slice(2);
const client = new LLMServiceClient(address, grpc.credentials.createInsecure(), grpcOptions());
await new Promise((resolve, reject) => client.waitForReady(Date.now() + 5000, (err) => (err ? reject(err) : resolve())));
const request = LLMChatRequest.fromPartial({ messages: [{ role: "user", content: "ping" }], authToken: token });

let errors = 0;
let firstError = "";
const times = [];
const call = () =>
  new Promise((resolve) => {
    const t0 = performance.now();
    client.chat(request, new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (err) => {
      if (err) {
        errors++;
        firstError ||= err.message;
      } else times.push(performance.now() - t0);
      resolve();
    });
  });
// Warm the channel (and the host's route) first.
for (let i = 0; i < 200; i++) await call();
times.length = 0;
const end = performance.now() + Number(secondsArg) * 1000;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
await Promise.all(Array.from({ length: Number(cArg) }, async () => {
  while (performance.now() < end) await call();
}));
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
client.close();
times.sort((a, b) => a - b);
const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
if (errors > 0 && times.length === 0) {
  console.error(`every call failed: ${firstError}`);
  process.exit(1);
}
console.log(JSON.stringify({ calls: times.length, perSec: times.length / (ms / 1000), p50: at(0.5), p99: at(0.99), errors, cpuMs: (cpu.user + cpu.system) / 1000 }));
