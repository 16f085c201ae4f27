/**
 * Attestation queries by subject + predicate through the host's ATSStoreService
 * (GetAttestations), one at a time, random pairs from a fixed seed.
 * Usage: node ats-query.mjs <address> <token> <queries> [seed]
 * Prints {queries, p50, p90, p99, max, meanRows, errors} (ms).
 */
import * as grpc from "@grpc/grpc-js";
import { ATSStoreServiceClient, grpcOptions } from "@qntx/protocol";
import { PREDICATES, SUBJECTS } from "../lib/ats-rows.mjs";
import { quantile } from "../lib/stats.mjs";

const [address, token, queriesArg = "500", seedArg = "1"] = process.argv.slice(2);
let seed = Number(seedArg) >>> 0 || 1;
const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const client = new ATSStoreServiceClient(address, grpc.credentials.createInsecure(), grpcOptions(64 * 1024 * 1024));
await new Promise((resolve, reject) => client.waitForReady(Date.now() + 5000, (err) => (err ? reject(err) : resolve())));

const query = () =>
  new Promise((resolve, reject) => {
    const filter = { subjects: [`user-${Math.floor(random() * SUBJECTS)}`], predicates: [`p${Math.floor(random() * PREDICATES)}`], contexts: [], actors: [] };
    client.getAttestations({ authToken: token, filter }, (err, res) => (err ? reject(err) : resolve(res)));
  });
for (let i = 0; i < 50; i++) await query(); // warm the channel and the page cache path
const latencies = [];
let rows = 0;
let errors = 0;
for (let i = 0; i < Number(queriesArg); i++) {
  const t0 = performance.now();
  const res = await query();
  latencies.push(performance.now() - t0);
  if (!res.success) errors++;
  rows += res.attestations.length;
}
client.close();
console.log(JSON.stringify({
  queries: latencies.length, p50: quantile(latencies, 0.5), p90: quantile(latencies, 0.9), p99: quantile(latencies, 0.99),
  max: Math.max(...latencies), meanRows: rows / latencies.length, errors,
}));
