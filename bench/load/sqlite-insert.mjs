/**
 * ATS baseline: raw better-sqlite3 inserts of the same rows the store writes (one attestation
 * row plus its four term rows each), <size> per transaction, into the ATS schema on a fresh
 * file with the host's pragmas (WAL, synchronous NORMAL, 64 MiB cache). No validation, no id
 * retry, no gRPC: the floor.
 * Usage: node sqlite-insert.mjs <dbfile> <batches> <size>. Prints {attestations, ms, perSec, cpuMs}.
 */
import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import { ATS_MIGRATIONS } from "@qntx/ats";
import { command } from "../lib/ats-rows.mjs";

const [file, batchesArg = "1000", sizeArg = "100"] = process.argv.slice(2);
const batches = Number(batchesArg);
const size = Number(sizeArg);
const db = new Database(file);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.pragma("cache_size = -65536");
for (const step of ATS_MIGRATIONS) db.exec(step);
const insertRow = db.prepare(`INSERT INTO attestations (id, timestamp, created_at, source, attributes, signature, signer_did,
  subjects, predicates, contexts, actors) VALUES (?, ?, ?, ?, ?, NULL, '', ?, ?, ?, ?)`);
const insertTerm = db.prepare("INSERT OR IGNORE INTO attestation_terms (dim, value, created_at, att, timestamp) VALUES (?, ?, ?, ?, ?)");
const write = db.transaction((rows) => {
  for (const r of rows) {
    const seq = insertRow.run(r.id, r.now, r.now, "bench", r.attributes, r.subjects, r.predicates, r.contexts, r.actors).lastInsertRowid;
    insertTerm.run(0, r.c.subjects[0], r.now, seq, r.now);
    insertTerm.run(1, r.c.predicates[0], r.now, seq, r.now);
    insertTerm.run(2, r.c.contexts[0], r.now, seq, r.now);
    insertTerm.run(3, r.c.actors[0], r.now, seq, r.now);
  }
});
const t0 = performance.now();
const cpu0 = process.cpuUsage();
for (let b = 0; b < batches; b++) {
  const now = Date.now();
  const rows = Array.from({ length: size }, (_, k) => {
    const c = command(b * size + k);
    return {
      c, now,
      id: `${c.subjects[0]}-${c.predicates[0]}-${randomBytes(6).toString("hex")}`,
      attributes: JSON.stringify({ ...c.attributes, source_version: c.sourceVersion }),
      subjects: JSON.stringify(c.subjects), predicates: JSON.stringify(c.predicates),
      contexts: JSON.stringify(c.contexts), actors: JSON.stringify(c.actors),
    };
  });
  write(rows);
}
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
db.close();
console.log(JSON.stringify({ attestations: batches * size, ms, perSec: (batches * size) / (ms / 1000), cpuMs: (cpu.user + cpu.system) / 1000 }));
