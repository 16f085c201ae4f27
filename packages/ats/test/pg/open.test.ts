/**
 * Opening a store from one setting (URL or file), and the errors of a database the store
 * cannot use: unreachable (the URL named, password masked), the wrong encoding, text
 * PostgreSQL cannot hold.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { databaseUrl } from "@qntx/testing-pg";
import pg from "pg";
import {
  AtsError,
  isPostgresUrl,
  maskUrl,
  openAttestationStore,
  PostgresAttestationStore,
  SqliteAttestationStore,
} from "../../src/index.js";
import { att, cmd } from "../helpers.js";
import { describePg, freePort, useAtsDatabase } from "./support.js";

describe("maskUrl", () => {
  it("hides the password in the user part and in a password parameter, and nothing else", () => {
    expect(maskUrl("postgres://qntx:s3cret@db.example:5432/ats?sslmode=require")).toBe("postgres://qntx:***@db.example:5432/ats?sslmode=require");
    expect(maskUrl("postgresql://qntx@db:5432/ats?password=s3cret&application_name=x")).toBe("postgresql://qntx@db:5432/ats?password=***&application_name=x");
    expect(maskUrl("postgres://qntx@db/ats")).toBe("postgres://qntx@db/ats");
    expect(maskUrl("postgres://qntx:p@ss:word@db/ats")).not.toContain("ss:word");
  });

  it("tells a PostgreSQL URL from a file path", () => {
    expect(isPostgresUrl("postgres://h/db")).toBe(true);
    expect(isPostgresUrl("POSTGRESQL://h/db")).toBe(true);
    expect(isPostgresUrl("/var/lib/qntx/qntx.db")).toBe(false);
    expect(isPostgresUrl("postgres.db")).toBe(false);
  });
});

describe("an unreachable database at start", () => {
  it("is an DATABASE_UNAVAILABLE error naming the URL with its password masked, with a hint", async () => {
    // A port nothing listens on: connection refused.
    const probe = await freePort();
    const url = `postgres://qntx:s3cret@127.0.0.1:${probe}/ats`;
    const error = await PostgresAttestationStore.open(url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AtsError);
    expect((error as AtsError).code).toBe("DATABASE_UNAVAILABLE");
    expect((error as AtsError).message).toBe(
      `opening the attestation store: cannot reach the attestation database at postgres://qntx:***@127.0.0.1:${probe}/ats: connect ECONNREFUSED 127.0.0.1:${probe}`,
    );
    expect((error as AtsError).message).not.toContain("s3cret");
    expect((error as AtsError).hint).toMatch(/PostgreSQL runs and accepts connections/);
    await expect(openAttestationStore(url)).rejects.toMatchObject({ code: "DATABASE_UNAVAILABLE" });
  });
});

describe("openAttestationStore", () => {
  it("opens a SQLite file from a path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qntx-open-"));
    try {
      const store = await openAttestationStore(join(dir, "sub", "qntx.db"));
      expect(store).toBeInstanceOf(SqliteAttestationStore);
      await store.generateAndCreate(cmd(), { source: "p" });
      expect(await store.count()).toBe(1);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describePg("a PostgreSQL database the store cannot use", () => {
  const file = useAtsDatabase();

  it("opens from a postgres:// URL", async () => {
    const store = await openAttestationStore(file.db.url);
    expect(store).toBeInstanceOf(PostgresAttestationStore);
    expect(store.health()).toEqual({ healthy: true });
    await store.close();
  });

  it("is refused when its encoding is not UTF8", async () => {
    const name = `${file.db.name}_ascii`;
    const admin = new pg.Client({ connectionString: databaseUrl("postgres") });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name}" ENCODING 'SQL_ASCII' TEMPLATE template0`);
      await expect(PostgresAttestationStore.open(databaseUrl(name))).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
        message: "the attestation database's encoding is SQL_ASCII; qntx needs UTF8",
      });
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  });

  it("refuses text PostgreSQL cannot store (U+0000), naming the field and the batch command", async () => {
    const store = await file.open();
    await expect(store.generateAndCreate(cmd({ subjects: ["a\u0000b"] }), { source: "p" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "subjects holds the character U+0000, which PostgreSQL text cannot store",
    });
    await expect(store.batchGenerateAndCreate([cmd(), cmd({ contexts: ["\u0000"] })], { source: "p" })).rejects.toThrow(
      "batch command 1: contexts holds the character U+0000",
    );
    await expect(store.create(att({ id: "nul\u0000" }))).rejects.toThrow("id holds the character U+0000");
    expect(await store.count()).toBe(0);
  });
});
