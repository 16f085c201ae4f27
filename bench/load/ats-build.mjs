/**
 * Builds the 1 000 000-attestation database of the query case through the store's own
 * batchGenerateAndCreate (10 000 per transaction), then writes `complete.json` beside it; a
 * directory without that marker is rebuilt. Usage: node ats-build.mjs <dir> <count>.
 */
import { rmSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { SqliteAttestationStore } from "@qntx/ats";
import { command } from "../lib/ats-rows.mjs";

const [dir, countArg = "1000000"] = process.argv.slice(2);
const count = Number(countArg);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const store = SqliteAttestationStore.open(join(dir, "qntx.db"));
const t0 = performance.now();
const BATCH = 10_000;
for (let i = 0; i < count; i += BATCH) {
  await store.batchGenerateAndCreate(Array.from({ length: Math.min(BATCH, count - i) }, (_, k) => command(i + k)), { source: "bench" });
}
const n = await store.count();
store.db.pragma("wal_checkpoint(TRUNCATE)");
await store.close();
const ms = performance.now() - t0;
writeFileSync(join(dir, "complete.json"), JSON.stringify({ count: n, buildMs: Math.round(ms), builtAt: new Date().toISOString() }) + "\n");
console.log(JSON.stringify({ count: n, ms }));
