#!/usr/bin/env node
/**
 * The attestation store in process, SQLite against PostgreSQL on the same machine (not part
 * of `pnpm bench`: no host, no gRPC, figures for docs/scale-out.md). For each store:
 * batchGenerateAndCreate of N attestations, 100 per call (the ats case's rows), with the CPU of
 * this process and (PostgreSQL, when the tool started the server) of the server; GetAttestations'
 * query by subject + predicate p50/p99 over 500 queries; one-value dense predicate with limit 5;
 * and, PostgreSQL only, how long a write through one store takes to reach a watch on a second
 * store on the same database (NOTIFY, then a poll), p50/p99.
 * Usage: node bench/investigations/ats-stores.mjs [N=100000] [postgres maintenance URL; default: a
 * throwaway server]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostgresAttestationStore, SqliteAttestationStore } from "@qntx/ats";
import { command, PREDICATES, SUBJECTS } from "../lib/ats-rows.mjs";
import { quantile } from "../lib/stats.mjs";
import { benchPg } from "../lib/throwaway-pg.mjs";

const N = Number(process.argv[2] ?? 100_000);
const pgServer = await benchPg(process.argv[3]);
let seed = 1;
const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const empty = { subjects: [], predicates: [], contexts: [], actors: [] };

// Predicates present in N rows (the rows cycle through them every SUBJECTS rows).
const PRESENT = Math.min(PREDICATES, Math.ceil(N / SUBJECTS));

async function measure(name, store, serverCpuMs = () => undefined) {
  const cpu0 = process.cpuUsage();
  const server0 = serverCpuMs();
  const t0 = performance.now();
  for (let i = 0; i < N; i += 100) await store.batchGenerateAndCreate(Array.from({ length: 100 }, (_, k) => command(i + k)), { source: "bench" });
  const insertMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const serverMs = server0 === undefined ? undefined : serverCpuMs() - server0;
  const timed = async (make) => {
    for (let i = 0; i < 50; i++) await store.query(make());
    const ms = [];
    let rows = 0;
    for (let i = 0; i < 500; i++) {
      const t = performance.now();
      rows += (await store.query(make())).length;
      ms.push(performance.now() - t);
    }
    return { p50: +quantile(ms, 0.5).toFixed(3), p99: +quantile(ms, 0.99).toFixed(3), rows: +(rows / 500).toFixed(1) };
  };
  const pair = await timed(() => ({ ...empty, subjects: [`user-${Math.floor(random() * SUBJECTS)}`], predicates: [`p${Math.floor(random() * PRESENT)}`] }));
  const dense = await timed(() => ({ ...empty, predicates: [`p${Math.floor(random() * PRESENT)}`], limit: 5 }));
  console.log(JSON.stringify({
    store: name, attestations: N, insertPerSec: Math.round(N / (insertMs / 1000)),
    insertCpuUsPerAttestation: { client: +((cpu.user + cpu.system) / N).toFixed(1), server: serverMs === undefined ? null : +((serverMs * 1000) / N).toFixed(1) },
    subjectPredicateQuery: pair, densePredicateLimit5: dense,
  }));
}

const dir = mkdtempSync(join(tmpdir(), "qntx-ats-stores-"));
try {
  const sqlite = SqliteAttestationStore.open(join(dir, "qntx.db"));
  await measure("sqlite", sqlite);
  await sqlite.close();

  const url = await pgServer.database("bench_ats_stores");
  const [a, b] = [await PostgresAttestationStore.open(url), await PostgresAttestationStore.open(url)];
  await measure("postgres", a, () => pgServer.cpuMs());
  // Cross-store watch delivery: one write at a time through b, timed until a's watch has it.
  const lat = [];
  let resolve;
  a.watch({ ...empty, subjects: ["watch-probe"] }, () => resolve());
  for (let i = 0; i < 200; i++) {
    const seen = new Promise((r) => (resolve = r));
    const t = performance.now();
    await b.generateAndCreate({ ...empty, subjects: ["watch-probe"] }, { source: "bench" });
    await seen;
    lat.push(performance.now() - t);
  }
  console.log(JSON.stringify({ store: "postgres", crossStoreWatchMs: { p50: +quantile(lat, 0.5).toFixed(2), p99: +quantile(lat, 0.99).toFixed(2) } }));
  await a.close();
  await b.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
  await pgServer.stop();
}
