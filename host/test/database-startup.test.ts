/**
 * Where the host keeps its data: `[host] database` / `QNTX_DATABASE_URL` open the shared
 * PostgreSQL database (the environment wins), and a database that cannot be opened at start
 * is a clear error naming the URL with its password masked, with a hint for the reason: a
 * real closed port, a real wrong password against the test server, a database that does not
 * exist, and `qntx server` exiting with that message.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { PostgresAttestationStore } from "@qntx/ats";
import { QntxError } from "@qntx/protocol";
import { adminQuery, createTestDatabase, PASSWORD_ROLE, pgSkipReason, type TestDatabase } from "@qntx/testing-pg";
import { execa } from "execa";
import { pino } from "pino";
import { loadConfig, parseConfig } from "../src/config/index.js";
import { startHost } from "../src/server.js";
import { CLI, freePort, hostTable, startTestHost } from "./harness.js";
import { configError } from "./helpers/config-error.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

const silent = pino({ level: "silent" });

/** Starts a host on `database` in a fresh data dir and returns the error it fails with. */
async function startError(database: string): Promise<QntxError> {
  const dir = makeTempDir();
  const file = join(dir, "am.plugins.toml");
  writeFileSync(file, await hostTable(dir, { database }));
  const error = await startHost(loadConfig({ configPath: file }), silent).then(
    (host) => host.close().then(() => new Error("the host started")),
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(QntxError);
  return error as QntxError;
}

afterAll(() => cleanupTempDirs());

describe("[host] database in the config", () => {
  it("takes a postgres URL, and QNTX_DATABASE_URL wins over it", () => {
    const text = '[host]\ndatabase = "postgres://a@db1/qntx"\n';
    expect(parseConfig(text, undefined, { env: {} }).host).toMatchObject({ database: "postgres://a@db1/qntx", databaseFrom: "[host] database" });
    const env = { QNTX_DATABASE_URL: "postgresql://b@db2/qntx" };
    expect(parseConfig(text, undefined, { env }).host).toMatchObject({ database: "postgresql://b@db2/qntx", databaseFrom: "QNTX_DATABASE_URL" });
    expect(parseConfig("", undefined, { env: {} }).host.database).toBeUndefined();
  });

  it("refuses what is not a postgres URL, with a hint and without echoing a password", () => {
    const error = configError(() => parseConfig('[host]\ndatabase = "mysql://u:hunter2@db/x"\n', undefined, { env: {} }));
    expect(error.message).toContain("must be a postgres:// or postgresql:// URL");
    expect(error.message).not.toContain("hunter2");
    expect(configError(() => parseConfig("", undefined, { env: { QNTX_DATABASE_URL: "db.example.com" } })).message).toContain("QNTX_DATABASE_URL");
  });

  it("reads [pulse] lease_seconds as the job lease", () => {
    expect(parseConfig("[pulse]\nlease_seconds = 7\n", undefined, { env: {} }).host.jobLeaseMs).toBe(7000);
    expect(parseConfig("", undefined, { env: {} }).host.jobLeaseMs).toBe(30_000);
    expect(configError(() => parseConfig("[pulse]\nlease_seconds = 0\n", undefined, { env: {} })).message).toContain("lease_seconds");
  });
});

describe("a database that cannot be opened at start", () => {
  it("a closed port: DATABASE_UNAVAILABLE with the URL, the password masked, and what to check", async () => {
    const port = await freePort();
    const error = await startError(`postgres://qntx:s3cret-pw@127.0.0.1:${port}/qntx`);
    expect(error.code).toBe("DATABASE_UNAVAILABLE");
    expect(error.message).toContain(`postgres://qntx:***@127.0.0.1:${port}/qntx`);
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.message).not.toContain("s3cret-pw");
    expect(error.hint).toContain("runs and accepts connections");
    expect(error.hint).toContain("[host] database");
  });

  it("`qntx server` prints that error and its hint and exits 1", async () => {
    const port = await freePort();
    const dir = makeTempDir();
    const result = await execa(process.execPath, [CLI, "server", "--data-dir", join(dir, "data"), "--listen", "127.0.0.1:0"], {
      reject: false, cwd: dir, env: { QNTX_HOME: dir, QNTX_DATABASE_URL: `postgres://qntx:s3cret-pw@127.0.0.1:${port}/qntx` },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`cannot open the database postgres://qntx:***@127.0.0.1:${port}/qntx (QNTX_DATABASE_URL)`);
    expect(result.stderr).toContain("hint:");
    expect(`${result.stdout}${result.stderr}`).not.toContain("s3cret-pw");
  });
});

const describePg = pgSkipReason() ? describe.skip : describe;

describePg("against the test PostgreSQL server", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("a wrong password: refused, the password masked, the hint names user and password", async () => {
    // The role exists once per server; each run sets a password only this test knows.
    await adminQuery(`DO $$ BEGIN CREATE ROLE ${PASSWORD_ROLE} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    await adminQuery(`ALTER ROLE ${PASSWORD_ROLE} PASSWORD '${randomBytes(12).toString("hex")}'`);
    const url = new URL(db.url);
    url.username = PASSWORD_ROLE;
    url.password = "wrong-password";
    const error = await startError(url.toString());
    expect(error.code).toBe("DATABASE_UNAVAILABLE");
    expect(error.message).toContain("password authentication failed");
    expect(error.message).toContain(`${PASSWORD_ROLE}:***@`);
    expect(error.message).not.toContain("wrong-password");
    expect(error.hint).toContain("refused the user or password");
  });

  it("a database that does not exist: the hint says to create it", async () => {
    const url = new URL(db.url);
    url.pathname = "/qntx_no_such_database";
    const error = await startError(url.toString());
    expect(error.code).toBe("DATABASE_UNAVAILABLE");
    expect(error.message).toContain("qntx_no_such_database");
    expect(error.hint).toContain("create the database");
  });

  it("keeps attestations in PostgreSQL: another store on the database reads what the host wrote", async () => {
    const t = await startTestHost("", { database: db.url });
    const other = await PostgresAttestationStore.open(db.url);
    try {
      expect(t.host.database.kind).toBe("postgres");
      await t.host.store.generateAndCreate({ subjects: ["on-postgres"], predicates: ["is"], contexts: ["shared"], actors: [], source: "", sourceVersion: "" }, { source: "test" });
      const found = await other.query({ subjects: ["on-postgres"], predicates: [], contexts: [], actors: [], limit: 0 });
      expect(found.map((a) => a.subjects)).toEqual([["on-postgres"]]);
    } finally {
      await other.close();
      await t.close();
    }
  });
});
