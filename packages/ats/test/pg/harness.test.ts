/**
 * The PostgreSQL test harness (@qntx/testing-pg) itself: one database per test file cloned
 * from the migrated template; a machine without the server programs skips with one reason
 * (and fails under CI=true); a server left by a killed test run is stopped by the next.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";
import { findPgBinaries, sweepStaleServers } from "@qntx/testing-pg";
import pg from "pg";
import { PostgresAttestationStore } from "../../src/index.js";
import { atsTestDatabase } from "../conformance/postgres.js";
import { describePg, kill, lastJson, runNode, startNode, useAtsDatabase } from "./support.js";

/** The environment of a process that runs the global setup afresh (no server of this run). */
function freshEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.QNTX_TEST_PG_URL;
  delete env.QNTX_TEST_PG_SKIP;
  if (!("CI" in extra)) delete env.CI;
  return env;
}

describe("the global setup on a machine without PostgreSQL", () => {
  it("skips the PostgreSQL tests and says why, once", async () => {
    const run = await runNode("pg-global-setup.mjs", [], freshEnv({ QNTX_PG_BINDIR: "/nonexistent/pg/bin" }));
    const reason = "no PostgreSQL server programs (initdb, pg_ctl) in QNTX_PG_BINDIR=/nonexistent/pg/bin: install the Debian package postgresql, or set QNTX_PG_BINDIR";
    expect(lastJson(run)).toEqual({ url: null, skip: reason });
    expect(run.stdout.split("\n").filter((l) => l.includes("skipped"))).toEqual([`[@qntx/testing-pg] PostgreSQL tests skipped: ${reason}`]);
  });

  it("fails the run under CI=true", async () => {
    const run = await runNode("pg-global-setup.mjs", [], freshEnv({ QNTX_PG_BINDIR: "/nonexistent/pg/bin", CI: "true" }));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("PostgreSQL tests cannot run under CI=true: no PostgreSQL server programs");
  });
});

describePg("the test PostgreSQL server", () => {
  const file = useAtsDatabase();

  it("gives each test file its own database, already migrated from the template", async () => {
    const other = await atsTestDatabase();
    try {
      const db = file.db;
      expect(other.name).not.toBe(db.name);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query("SELECT datname FROM pg_database WHERE datname IN ($1, $2, 'qntx_tmpl_ats') ORDER BY datname", [db.name, other.name]);
        expect(rows.map((r) => r.datname).sort()).toEqual([db.name, other.name, "qntx_tmpl_ats"].sort());
        expect((await client.query("SELECT inet_server_addr()::text AS addr")).rows).toEqual([{ addr: "127.0.0.1/32" }]);
      } finally {
        await client.end();
      }
      // Cloned migrated: opening the store applies nothing.
      const store = await PostgresAttestationStore.open(other.url);
      expect(store.migrated.applied).toEqual([]);
      await store.close();
    } finally {
      await other.drop();
    }
  });

  it("stops a server whose test run was killed, at the next run's start", async () => {
    const { child, line } = await startNode("pg-server-owner.mjs", []);
    const { dir, port } = JSON.parse(line) as { dir: string; port: number };
    await kill(child);
    // Still up: its owner died without a teardown.
    const orphan = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await orphan.connect();
    await orphan.end();
    const lookup = findPgBinaries();
    if ("missing" in lookup) throw new Error(lookup.missing);
    expect(await sweepStaleServers(lookup.found)).toContain(dir);
    expect(existsSync(dir)).toBe(false);
    const gone = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await expect(gone.connect()).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});
