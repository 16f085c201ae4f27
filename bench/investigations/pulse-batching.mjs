#!/usr/bin/env node
/**
 * Diagnostic for the jobs case (not part of `pnpm bench`): Pulse in process with a no-op
 * executor, counting finish+claim transactions. `batch`: every executor answers in the same
 * microtask turn (what packages/pulse/scripts/bench.mjs measures); `spread`: each answer comes
 * in its own macrotask, as gRPC responses do, each read from the socket separately.
 * Usage: node bench/investigations/pulse-batching.mjs batch|spread
 */
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pulse } from "@qntx/pulse";
const N = 30000, C = 16, mode = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), "pexp-"));
const db = new Database(join(dir, "q.db")); db.pragma("journal_mode = WAL"); db.pragma("synchronous = NORMAL");
// each executor call resolves in its own macrotask (like gRPC responses, each in its own socket read)
const exec = mode === "spread" ? () => new Promise((r) => setTimeout(() => r({ success: true }), 0)) : async () => ({ success: true });
const pulse = new Pulse({ db, concurrency: C, executor: exec });
pulse.handlers.register("b", ["noop"]);
let tx = 0, claimed = 0; const orig = pulse.store.finishAndClaim.bind(pulse.store);
pulse.store.finishAndClaim = async (ops, c, now) => { tx++; const r = await orig(ops, c, now); claimed += r.claimed.length; return r; };
for (let i = 0; i < N; i += 1000) await pulse.enqueueMany(Array.from({ length: 1000 }, () => ({ handler: "b/noop" })));
let done = 0; const fin = new Promise((res) => pulse.on("job", (j) => { if (j.status === "completed" && ++done === N) res(); }));
const cpu0 = process.cpuUsage(); const t = performance.now(); await pulse.start(); await fin; const ms = performance.now() - t; const cpu = process.cpuUsage(cpu0);
await pulse.stop();
console.log(JSON.stringify({ mode, perSec: Math.round(N / ms * 1000), cpuUsPerJob: Math.round((cpu.user + cpu.system) / N), transactions: tx, jobsPerTx: +(N / tx).toFixed(2) }));
db.close(); rmSync(dir, { recursive: true, force: true });
