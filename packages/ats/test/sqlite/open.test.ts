import { afterEach, describe, expect, it } from "@jest/globals";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { openDatabase, SqliteAttestationStore, type SqliteDatabase } from "../../src/index.js";
import { cmd, filter, tempDir, type TempDir } from "../helpers.js";

let tmp: TempDir;
const open: SqliteDatabase[] = [];
afterEach(() => {
  for (const d of open.splice(0)) if (d.open) d.close();
  tmp?.remove();
});

describe("openDatabase", () => {
  it("turns on WAL, synchronous NORMAL, foreign keys, a 5 s busy timeout and a 64 MiB cache", async () => {
    tmp = tempDir();
    const db = openDatabase(tmp.file);
    open.push(db);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("synchronous", { simple: true })).toBe(1);
    expect(db.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(db.pragma("busy_timeout", { simple: true })).toBe(5000);
    expect(db.pragma("cache_size", { simple: true })).toBe(-64 * 1024);
    await new SqliteAttestationStore(db).generateAndCreate(cmd(), { source: "p" });
    expect(existsSync(`${tmp.file}-wal`)).toBe(true);
  });

  it("creates missing parent directories", () => {
    tmp = tempDir();
    const file = join(tmp.dir, "a", "b", "qntx.db");
    open.push(openDatabase(file));
    expect(existsSync(file)).toBe(true);
  });

  it("accepts :memory: for quick unit use", async () => {
    tmp = tempDir();
    const db = openDatabase(":memory:");
    open.push(db);
    const store = new SqliteAttestationStore(db);
    await store.generateAndCreate(cmd(), { source: "p" });
    expect(await store.count()).toBe(1);
  });

  it("lets a second connection read committed writes while a cursor is open on the first (WAL)", async () => {
    tmp = tempDir();
    const writerDb = openDatabase(tmp.file);
    const readerDb = openDatabase(tmp.file);
    open.push(writerDb, readerDb);
    const writer = new SqliteAttestationStore(writerDb);
    const reader = new SqliteAttestationStore(readerDb);
    await writer.batchGenerateAndCreate(Array.from({ length: 50 }, () => cmd()), { source: "p" });
    const cursor = reader.iterate(filter());
    expect((await cursor.next()).done).toBe(false);
    // A long stream on the reader does not block the writer connection.
    await writer.generateAndCreate(cmd({ subjects: ["new"] }), { source: "p" });
    await cursor.return!();
    expect(await reader.query(filter({ subjects: ["new"] }))).toHaveLength(1);
    expect(await reader.count()).toBe(51);
  });
});
