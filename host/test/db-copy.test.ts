/**
 * `qntx db copy --to postgres://…` through the real CLI: an embedded installation (attestations,
 * jobs with their logs, usage) moves into a real PostgreSQL database; a copy killed with
 * SIGKILL mid-way and run again ends with every row once, and the stores read what was copied.
 */
import { join } from "node:path";
import { afterAll, beforeAll, expect, it, jest } from "@jest/globals";
import { execa } from "execa";
import pg from "pg";
import { openDatabase, PostgresAttestationStore, SqliteAttestationStore } from "@qntx/ats";
import { AttestationCommand, AttestationFilter } from "@qntx/protocol";
import { migrate, PULSE_MIGRATIONS } from "@qntx/pulse";
import { createTestDatabase, pgSkipReason, type TestDatabase } from "@qntx/testing-pg";
import { SqliteUsageStore } from "../src/budget/usage-store.js";
import { CLI, until } from "./harness.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

jest.setTimeout(120_000);
const ATTESTATIONS = 4000;
const JOBS = 300;
const itPg = pgSkipReason() ? it.skip : it;
let database: TestDatabase | undefined;
let file = "";

beforeAll(async () => {
  if (pgSkipReason()) return;
  database = await createTestDatabase();
  file = join(makeTempDir(), "qntx.db");
  const store = await SqliteAttestationStore.open(file);
  for (let i = 0; i < ATTESTATIONS; i += 500) {
    const commands = Array.from({ length: 500 }, (_, j) => AttestationCommand.fromPartial({ subjects: [`s${i + j}`], predicates: ["knows"], contexts: ["work"], actors: ["cli"], attributes: { n: i + j } }));
    await store.batchGenerateAndCreate(commands, { source: "test" });
  }
  await store.close();
  const db = openDatabase(file);
  migrate(db, "pulse", PULSE_MIGRATIONS);
  const job = db.prepare("INSERT INTO pulse_jobs (id, handler, plugin, handler_name, payload, status, run_at, max_attempts, created_at, updated_at, result) VALUES (?, 'x/y', 'x', 'y', ?, 'completed', 1, 3, 1, 1, ?)");
  const log = db.prepare("INSERT INTO pulse_job_logs (job_id, attempt, timestamp, message) VALUES (?, 1, '2026-01-01T00:00:00Z', 'ran')");
  for (let i = 0; i < JOBS; i++) {
    job.run(`job-${i}`, Buffer.from([i % 256, 0, 255]), Buffer.from(`result ${i}`));
    log.run(`job-${i}`);
  }
  await new SqliteUsageStore(db).record({ at: 1, plugin: "x", kind: "job", name: "x/y", provider: "", costUsd: 0.5, promptTokens: 0, completionTokens: 0, totalTokens: 0 }, "job:job-1");
  db.close();
});
afterAll(async () => {
  await database?.drop();
  cleanupTempDirs();
});

const copy = () => execa(process.execPath, [CLI, "db", "copy", "--database", file, "--to", database!.url], { reject: false });

itPg("copies everything once, also when a first run is killed with SIGKILL mid-way", async () => {
  const client = new pg.Client({ connectionString: database!.url });
  await client.connect();
  try {
    const first = copy();
    // Killed once some chunks of attestations are in, and not all.
    await until(async () => {
      const progress = await client.query<{ copied: string }>("SELECT copied FROM qntx_copy_progress WHERE tbl = 'attestations'").catch(() => ({ rows: [] }));
      const copied = Number(progress.rows[0]?.copied ?? 0);
      return copied > 0 ? copied : undefined;
    }, "the first chunks to be copied", 60_000);
    first.kill("SIGKILL");
    const killed = await first;
    expect(killed.signal).toBe("SIGKILL");
    const partial = Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM attestations")).rows[0]!.n);
    expect(partial).toBeLessThan(ATTESTATIONS);

    const second = await copy();
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`attestations\\s+${ATTESTATIONS}\\s+${ATTESTATIONS}`));
    expect(second.stdout).toMatch(new RegExp(`pulse_jobs\\s+${JOBS}\\s+${JOBS}`));
    expect(second.stdout).toMatch(/usage_records\s+1\s+1/);
    expect(second.stderr).toContain(`attestations: ${ATTESTATIONS}/${ATTESTATIONS}`);
    const count = async (sql: string) => Number((await client.query<{ n: string }>(sql)).rows[0]!.n);
    expect(await count("SELECT count(DISTINCT id) AS n FROM attestations")).toBe(ATTESTATIONS);
    expect(await count("SELECT count(*) AS n FROM attestations")).toBe(ATTESTATIONS);
    expect(await count("SELECT count(*) AS n FROM attestation_terms")).toBe(4 * ATTESTATIONS);
    expect(await count("SELECT count(*) AS n FROM pulse_job_logs")).toBe(JOBS);
    const job = (await client.query<{ payload: Buffer; result: Buffer }>("SELECT payload, result FROM pulse_jobs WHERE id = 'job-7'")).rows[0]!;
    expect([...job.payload]).toEqual([7, 0, 255]);
    expect(job.result.toString()).toBe("result 7");
  } finally {
    await client.end();
  }
  // The PostgreSQL store reads the copy through its indexes.
  const store = await PostgresAttestationStore.open(database!.url);
  try {
    const found = await store.query(AttestationFilter.fromPartial({ subjects: ["s1234"] }));
    expect(found.map((a) => a.attributes)).toEqual([{ n: 1234 }]);
  } finally {
    await store.close();
  }
});
