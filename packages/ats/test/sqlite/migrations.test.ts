import { afterEach, describe, expect, it } from "@jest/globals";
import {
  ATS_MIGRATIONS,
  ATS_NAMESPACE,
  migrate,
  openDatabase,
  schemaVersion,
  SqliteAttestationStore,
  type SqliteDatabase,
} from "../../src/index.js";
import { cmd, filter, tempDir, type TempDir } from "../helpers.js";

let tmp: TempDir;
const open: SqliteDatabase[] = [];
function db(): SqliteDatabase {
  const d = openDatabase(tmp.file);
  open.push(d);
  return d;
}
afterEach(() => {
  for (const d of open.splice(0)) if (d.open) d.close();
  tmp.remove();
});

type Row = { namespace: string; version: number; applied_at: number };
const rows = (d: SqliteDatabase): Row[] =>
  d.prepare("SELECT namespace, version, applied_at FROM schema_migrations ORDER BY namespace, version").all() as Row[];

describe("migrate", () => {
  it("applies pending versions once, in order, and records them", () => {
    tmp = tempDir();
    const d = db();
    const steps = ["CREATE TABLE t1 (x)", "CREATE TABLE t2 (y)", (x: SqliteDatabase) => void x.prepare("INSERT INTO t1 VALUES (1)").run()];
    expect(migrate(d, "demo", steps.slice(0, 2))).toEqual({ from: 0, to: 2, applied: [1, 2] });
    expect(migrate(d, "demo", steps)).toEqual({ from: 2, to: 3, applied: [3] });
    expect(migrate(d, "demo", steps)).toEqual({ from: 3, to: 3, applied: [] });
    expect(rows(d).map((r) => r.version)).toEqual([1, 2, 3]);
    expect(d.prepare("SELECT count(*) AS n FROM t1").get()).toEqual({ n: 1 });
    expect(schemaVersion(d, "demo")).toBe(3);
    expect(schemaVersion(d, "other")).toBe(0);
  });

  it("keeps namespaces apart in one file", () => {
    tmp = tempDir();
    const d = db();
    migrate(d, "ats", ["CREATE TABLE a (x)"]);
    migrate(d, "pulse", ["CREATE TABLE p1 (x)", "CREATE TABLE p2 (x)"]);
    expect(rows(d).map((r) => `${r.namespace}:${r.version}`)).toEqual(["ats:1", "pulse:1", "pulse:2"]);
  });

  it("rolls a failing step back entirely and does not record it", () => {
    tmp = tempDir();
    const d = db();
    expect(() => migrate(d, "demo", ["CREATE TABLE ok (x)", "CREATE TABLE half (x); SELECT * FROM no_such_table"])).toThrow(
      /no_such_table/,
    );
    expect(schemaVersion(d, "demo")).toBe(1);
    expect(d.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
    expect(migrate(d, "demo", ["CREATE TABLE ok (x)", "CREATE TABLE half (x)"]).applied).toEqual([2]);
  });

  it("refuses a database newer than the code", () => {
    tmp = tempDir();
    const d = db();
    migrate(d, "demo", ["SELECT 1", "SELECT 2"]);
    expect(() => migrate(d, "demo", ["SELECT 1"])).toThrow(/version 2, newer than this build knows \(1\)/);
  });
});

describe("the store's schema", () => {
  it("is migrated once: reopening the file runs nothing and keeps the data", async () => {
    tmp = tempDir();
    const first = new SqliteAttestationStore(db());
    const made = await first.batchGenerateAndCreate([cmd({ subjects: ["kept"] }), cmd({ subjects: ["too"], attributes: { n: 1 } })], {
      source: "p",
    });
    const before = rows(first.db);
    expect(before.filter((r) => r.namespace === ATS_NAMESPACE).map((r) => r.version)).toEqual(ATS_MIGRATIONS.map((_, i) => i + 1));
    await first.close();
    first.db.close();

    const second = new SqliteAttestationStore(db());
    expect(rows(second.db)).toEqual(before); // same rows, same applied_at: nothing re-ran
    expect(migrate(second.db, ATS_NAMESPACE, ATS_MIGRATIONS).applied).toEqual([]);
    expect(await second.count()).toBe(2);
    expect(await second.query(filter())).toEqual([...made].reverse());
    expect((await second.query(filter({ subjects: ["kept"] }))).map((a) => a.id)).toEqual([made[0]!.id]);
  });

  it("owns and closes its connection only when opened with SqliteAttestationStore.open", async () => {
    tmp = tempDir();
    const shared = db();
    const store = new SqliteAttestationStore(shared);
    await store.close();
    await store.close();
    expect(shared.open).toBe(true);
    const owned = SqliteAttestationStore.open(tmp.file);
    expect(await owned.count()).toBe(0);
    await owned.close();
    expect(owned.db.open).toBe(false);
  });

  it("adds expiry (version 2) to a version-1 file without making its attestations expire", async () => {
    tmp = tempDir();
    const old = db();
    migrate(old, ATS_NAMESPACE, ATS_MIGRATIONS.slice(0, 1));
    // Written before expiry existed: the attribute meant nothing then, and must keep meaning nothing.
    old.prepare(
      `INSERT INTO attestations (id, timestamp, created_at, source, attributes, signer_did, subjects, predicates, contexts, actors)
       VALUES ('v1', 1, 1, 'p', '{"expires_at":1}', '', '["s"]', '["p"]', '["c"]', '[]')`,
    ).run();
    const store = new SqliteAttestationStore(old);
    expect(schemaVersion(old, ATS_NAMESPACE)).toBe(2);
    expect((await store.query(filter())).map((a) => a.id)).toEqual(["v1"]);
    expect(await store.sweepExpired()).toBe(0);
    expect(await store.exists("v1")).toBe(true);
  });
});
