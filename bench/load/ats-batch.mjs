/**
 * ATSStoreService load: <calls> BatchGenerateAndCreateAttestations calls of <size> commands to
 * the host's services at <address>, authenticated with <token>, <inflight> at a time.
 * Usage: node ats-batch.mjs <address> <token> <calls> <size> [inflight] [offset]
 * Prints {attestations, ms, perSec, errors, firstError, cpuMs (this client's)}.
 */
import * as grpc from "@grpc/grpc-js";
import { ATSStoreServiceClient, grpcOptions } from "@qntx/protocol";
import { command } from "../lib/ats-rows.mjs";

const [address, token, callsArg = "1000", sizeArg = "100", inflightArg = "1", offsetArg = "0"] = process.argv.slice(2);
const calls = Number(callsArg);
const size = Number(sizeArg);
const offset = Number(offsetArg);
const client = new ATSStoreServiceClient(address, grpc.credentials.createInsecure(), grpcOptions(64 * 1024 * 1024));
await new Promise((resolve, reject) => client.waitForReady(Date.now() + 5000, (err) => (err ? reject(err) : resolve())));

let next = 0;
let errors = 0;
let created = 0;
let firstError = "";
const batch = (b) =>
  new Promise((resolve) => {
    const commands = Array.from({ length: size }, (_, k) => command(offset + b * size + k));
    client.batchGenerateAndCreateAttestations({ authToken: token, commands }, (err, res) => {
      if (err || !res.success) {
        errors++;
        firstError ||= err?.message ?? res.error;
      } else created += res.created;
      resolve();
    });
  });
async function worker() {
  while (next < calls) await batch(next++);
}
const t0 = performance.now();
const cpu0 = process.cpuUsage();
await Promise.all(Array.from({ length: Number(inflightArg) }, worker));
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
client.close();
console.log(JSON.stringify({ attestations: created, ms, perSec: created / (ms / 1000), errors, firstError, cpuMs: (cpu.user + cpu.system) / 1000 }));
