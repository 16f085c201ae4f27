#!/usr/bin/env node
/**
 * The experiment behind the PostgreSQL store's layout (docs/scale-out.md; not part of `pnpm
 * bench`): the same rows (bench/lib/ats-rows.mjs' distribution) in a term table like the
 * SQLite store's, and in text[] columns with a GIN index each; load rate, size, and four
 * query shapes (p50/p99 of 200, with PostgreSQL's plan). Also shows what `OFFSET 0` in an
 * EXISTS check does: without it PostgreSQL may turn the check into a hash semi-join.
 * Usage: node bench/investigations/pg-layout.mjs [N=300000] [postgres maintenance URL; default: a
 * throwaway server]
 */
import pg from "pg";
import { benchPg } from "../lib/throwaway-pg.mjs";
const N = Number(process.argv[2] ?? 300000);
const server = await benchPg(process.argv[3]);
const url = await server.database("bench_pg_layout");
const S = 10000, P = 20;
const types = { getTypeParser: (oid, f) => (oid === 20 ? Number : pg.types.getTypeParser(oid, f)) };
const c = new pg.Client({ connectionString: url, types }); await c.connect();
const q = (t, v) => c.query(t, v);
await q("DROP TABLE IF EXISTS ta, tt, ga");
await q(`CREATE TABLE ta (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text NOT NULL UNIQUE, timestamp bigint NOT NULL, created_at bigint NOT NULL, source text NOT NULL, attributes text, subjects text NOT NULL, predicates text NOT NULL, contexts text NOT NULL, actors text NOT NULL);
CREATE INDEX ta_created ON ta (created_at, seq); CREATE INDEX ta_ts ON ta (timestamp, created_at, seq);
CREATE TABLE tt (dim smallint NOT NULL, value text NOT NULL, created_at bigint NOT NULL, seq bigint NOT NULL, timestamp bigint NOT NULL, PRIMARY KEY (dim, value, created_at, seq) INCLUDE (timestamp));`);
await q(`CREATE TABLE ga (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text NOT NULL UNIQUE, timestamp bigint NOT NULL, created_at bigint NOT NULL, source text NOT NULL, attributes text, subjects text[] NOT NULL, predicates text[] NOT NULL, contexts text[] NOT NULL, actors text[] NOT NULL);
CREATE INDEX ga_created ON ga (created_at, seq); CREATE INDEX ga_ts ON ga (timestamp, created_at, seq);
CREATE INDEX ga_s ON ga USING gin (subjects); CREATE INDEX ga_p ON ga USING gin (predicates); CREATE INDEX ga_c ON ga USING gin (contexts); CREATE INDEX ga_a ON ga USING gin (actors);`);
const row = (i) => ({ id: `AS-${i}-${Math.random().toString(36).slice(2, 10)}`, ts: i, ca: 1_700_000_000_000 + Math.floor(i / 10), s: [`user-${i % S}`], p: [`p${Math.floor(i / S) % P}`], c: [`ctx-${i % 50}`], a: [`actor-${i % 7}`], attrs: JSON.stringify({ n: i, note: "bench", source_version: "1.0" }) });
async function loadTerms(rows) {
  await q("BEGIN");
  const r = await q(`INSERT INTO ta (id, timestamp, created_at, source, attributes, subjects, predicates, contexts, actors)
    SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) RETURNING seq`,
    [rows.map((x) => x.id), rows.map((x) => x.ts), rows.map((x) => x.ca), rows.map(() => "bench"), rows.map((x) => x.attrs), rows.map((x) => JSON.stringify(x.s)), rows.map((x) => JSON.stringify(x.p)), rows.map((x) => JSON.stringify(x.c)), rows.map((x) => JSON.stringify(x.a))]);
  const d = [], v = [], ca = [], sq = [], ts = [];
  rows.forEach((x, k) => { for (const [dim, list] of [[0, x.s], [1, x.p], [2, x.c], [3, x.a]]) for (const val of list) { d.push(dim); v.push(val); ca.push(x.ca); sq.push(r.rows[k].seq); ts.push(x.ts); } });
  await q("INSERT INTO tt SELECT * FROM unnest($1::int2[], $2::text[], $3::int8[], $4::int8[], $5::int8[]) ON CONFLICT DO NOTHING", [d, v, ca, sq, ts]);
  await q("COMMIT");
}
async function loadGin(rows) {
  await q(`INSERT INTO ga (id, timestamp, created_at, source, attributes, subjects, predicates, contexts, actors)
    SELECT id, ts, ca, src, at, ARRAY(SELECT json_array_elements_text(s::json)), ARRAY(SELECT json_array_elements_text(p::json)), ARRAY(SELECT json_array_elements_text(c::json)), ARRAY(SELECT json_array_elements_text(a::json))
    FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS u(id, ts, ca, src, at, s, p, c, a)`,
    [rows.map((x) => x.id), rows.map((x) => x.ts), rows.map((x) => x.ca), rows.map(() => "bench"), rows.map((x) => x.attrs), rows.map((x) => JSON.stringify(x.s)), rows.map((x) => JSON.stringify(x.p)), rows.map((x) => JSON.stringify(x.c)), rows.map((x) => JSON.stringify(x.a))]);
}
const B = 10000;
for (const [name, load] of [["terms", loadTerms], ["gin", loadGin]]) {
  const t0 = performance.now();
  for (let i = 0; i < N; i += B) await load(Array.from({ length: Math.min(B, N - i) }, (_, k) => row(i + k)));
  console.log(name, "load", N, "rows", Math.round(performance.now() - t0), "ms", Math.round(N / ((performance.now() - t0) / 1000)), "rows/s");
}
await q("VACUUM ANALYZE ta"); await q("VACUUM ANALYZE tt"); await q("VACUUM ANALYZE ga");
const size = async (t) => (await q(`SELECT pg_total_relation_size('${t}') AS n`)).rows[0].n;
console.log(`size: terms ${(((await size("ta")) + (await size("tt"))) / 1e6).toFixed(0)} MB, gin ${((await size("ga")) / 1e6).toFixed(0)} MB`);
const COLS = "a.seq, a.id, a.timestamp, a.created_at, a.source, a.attributes, a.subjects, a.predicates, a.contexts, a.actors";
const MIN = "-9223372036854775808", MAX = "9223372036854775807";
const queries = {
  "subject+predicate": { terms: [`SELECT ${COLS} FROM tt t JOIN ta a ON a.seq = t.seq WHERE t.dim = 0 AND t.value = $1 AND t.timestamp BETWEEN $3 AND $4 AND EXISTS (SELECT 1 FROM tt x WHERE x.dim = 1 AND x.value = ANY($2) AND x.created_at = t.created_at AND x.seq = t.seq) ORDER BY t.created_at DESC, t.seq DESC LIMIT NULL`, (r) => [`user-${Math.floor(r() * S)}`, [`p${Math.floor(r() * P)}`], MIN, MAX]],
    gin: [`SELECT ${COLS} FROM ga a WHERE subjects && $1 AND predicates && $2 ORDER BY created_at DESC, seq DESC`, (r) => [[`user-${Math.floor(r() * S)}`], [`p${Math.floor(r() * P)}`]]] },
  "dense predicate, limit 5": { terms: [`SELECT ${COLS} FROM tt t JOIN ta a ON a.seq = t.seq WHERE t.dim = 1 AND t.value = $1 ORDER BY t.created_at DESC, t.seq DESC LIMIT 5`, (r) => [`p${Math.floor(r() * P)}`]],
    gin: [`SELECT ${COLS} FROM ga a WHERE predicates && $1 ORDER BY created_at DESC, seq DESC LIMIT 5`, (r) => [[`p${Math.floor(r() * P)}`]]] },
  "3 subjects OR, limit 20": { terms: [`SELECT ${COLS} FROM (SELECT DISTINCT t.seq, t.created_at FROM tt t WHERE t.dim = 0 AND t.value = ANY($1) ORDER BY t.created_at DESC, t.seq DESC LIMIT 20) h JOIN ta a ON a.seq = h.seq ORDER BY h.created_at DESC, h.seq DESC`, (r) => [[0, 1, 2].map(() => `user-${Math.floor(r() * S)}`)]],
    gin: [`SELECT ${COLS} FROM ga a WHERE subjects && $1 ORDER BY created_at DESC, seq DESC LIMIT 20`, (r) => [[0, 1, 2].map(() => `user-${Math.floor(r() * S)}`)]] },
  "context+actor, limit 50": { terms: [`SELECT ${COLS} FROM tt t JOIN ta a ON a.seq = t.seq WHERE t.dim = 2 AND t.value = $1 AND EXISTS (SELECT 1 FROM tt x WHERE x.dim = 3 AND x.value = ANY($2) AND x.created_at = t.created_at AND x.seq = t.seq) ORDER BY t.created_at DESC, t.seq DESC LIMIT 50`, (r) => [`ctx-${Math.floor(r() * 50)}`, [`actor-${Math.floor(r() * 7)}`]]],
    "terms, OFFSET 0": [`SELECT ${COLS} FROM tt t JOIN ta a ON a.seq = t.seq WHERE t.dim = 2 AND t.value = $1 AND EXISTS (SELECT 1 FROM tt x WHERE x.dim = 3 AND x.value = ANY($2) AND x.created_at = t.created_at AND x.seq = t.seq OFFSET 0) ORDER BY t.created_at DESC, t.seq DESC LIMIT 50`, (r) => [`ctx-${Math.floor(r() * 50)}`, [`actor-${Math.floor(r() * 7)}`]]],
    gin: [`SELECT ${COLS} FROM ga a WHERE contexts && $1 AND actors && $2 ORDER BY created_at DESC, seq DESC LIMIT 50`, (r) => [[`ctx-${Math.floor(r() * 50)}`], [`actor-${Math.floor(r() * 7)}`]]] },
};
for (const [qname, sides] of Object.entries(queries)) {
  for (const side of Object.keys(sides)) {
    let seed = 7; const r = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const [sql, args] = sides[side];
    for (let i = 0; i < 20; i++) await q(sql, args(r));
    const lat = []; let rows = 0;
    for (let i = 0; i < 200; i++) { const t0 = performance.now(); rows += (await q(sql, args(r))).rowCount; lat.push(performance.now() - t0); }
    lat.sort((x, y) => x - y);
    const plan = (await q("EXPLAIN " + sql, args(r))).rows.map((x) => x["QUERY PLAN"]).filter((l) => /Scan|Sort|Join|Loop/.test(l)).map((l) => l.trim().replace(/\s+\(cost.*$/, "")).join(" / ");
    console.log(`${qname.padEnd(26)} ${side.padEnd(16)} p50 ${lat[100].toFixed(2)} ms p99 ${lat[198].toFixed(2)} ms rows/q ${(rows / 200).toFixed(1)}  ${plan}`);
  }
}
await c.end();
await server.stop();
