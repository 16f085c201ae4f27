/**
 * What `qntx db status` shows and `qntx db migrate` does, on either kind of database: the
 * schema version of each part ({@link SCHEMA_COMPONENTS}) in the database against what this
 * build understands, the migrations pending, and the refusal of a database a newer build
 * migrated (naming both versions).
 */
import { existsSync } from "node:fs";
import { isPostgresUrl, maskUrl, migratePg, openDatabase } from "@qntx/ats";
import { QntxError } from "@qntx/protocol";
import type { PoolClient } from "pg";
import { SCHEMA_COMPONENTS } from "./components.js";
import { connectOrExplain, createHostPool } from "./pg-pool.js";

/** One part's schema in one database. */
export interface ComponentStatus {
  readonly namespace: string;
  readonly keeps: string;
  /** The version the database holds (0: never migrated). */
  readonly found: number;
  /** The version this build understands here; null when the part keeps nothing on this kind of database. */
  readonly known: number | null;
  /** Names of the migrations `qntx db migrate` would apply. */
  readonly pending: string[];
  readonly state: "up to date" | "pending" | "too new" | "not kept here";
}

/** A database's schema as a whole. */
export interface DatabaseStatus {
  readonly kind: "sqlite" | "postgres";
  /** The file, or the URL with its password masked. */
  readonly location: string;
  /** False for a SQLite file not created yet. */
  readonly exists: boolean;
  /** The server's version (PostgreSQL only). */
  readonly server?: string;
  readonly components: ComponentStatus[];
  /** Namespaces the database holds that this build does not know. */
  readonly unknown: Array<{ namespace: string; version: number }>;
}

/** What a migration run applied, per namespace. */
export type Applied = Record<string, number[]>;

type Versions = Map<string, number>;

function compare(kind: DatabaseStatus["kind"], versions: Versions): Pick<DatabaseStatus, "components" | "unknown"> {
  const components = SCHEMA_COMPONENTS.map((c): ComponentStatus => {
    const found = versions.get(c.namespace) ?? 0;
    const names = kind === "sqlite" ? c.sqlite?.names : c.pg?.().map((m) => m.name);
    if (names === undefined) return { namespace: c.namespace, keeps: c.keeps, found, known: null, pending: [], state: "not kept here" };
    const state = found > names.length ? "too new" : found < names.length ? "pending" : "up to date";
    return { namespace: c.namespace, keeps: c.keeps, found, known: names.length, pending: names.slice(found), state };
  });
  const known = new Set(SCHEMA_COMPONENTS.map((c) => c.namespace));
  const unknown = [...versions].filter(([ns]) => !known.has(ns)).map(([namespace, version]) => ({ namespace, version }));
  return { components, unknown };
}

/**
 * The refusal of a database migrated past this build, or undefined when none of its parts is.
 * Names the part and both versions.
 */
export function tooNewError(status: DatabaseStatus): QntxError | undefined {
  const newer = status.components.find((c) => c.state === "too new");
  if (newer === undefined) return undefined;
  const elsewhere = status.kind === "sqlite" ? "use another data directory" : "point it at another database";
  return new QntxError("SCHEMA_TOO_NEW", `database schema "${newer.namespace}" is at version ${newer.found}, newer than this build knows (${newer.known}); upgrade qntx or ${elsewhere}`, {
    hint: `this qntx understands "${newer.namespace}" up to version ${newer.known} (${status.location})`,
  });
}

/** The schema of `target`: a PostgreSQL URL or a SQLite file path (not created when missing). */
export async function databaseStatus(target: string): Promise<DatabaseStatus> {
  if (isPostgresUrl(target)) return withPg(target, "reading the schema", async (client) => {
    const server = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
    return { kind: "postgres", location: maskUrl(target), exists: true, server, ...compare("postgres", await pgVersions(client)) };
  });
  if (!existsSync(target)) return { kind: "sqlite", location: target, exists: false, ...compare("sqlite", new Map()) };
  const db = openDatabase(target, { readonly: true });
  try {
    return { kind: "sqlite", location: target, exists: true, ...compare("sqlite", sqliteVersions(db)) };
  } finally {
    db.close();
  }
}

/**
 * Refuses to go on with a database some part of which a newer build migrated.
 * @throws QntxError SCHEMA_TOO_NEW naming the part and both versions
 */
export async function refuseNewerSchema(target: string): Promise<void> {
  const refusal = tooNewError(await databaseStatus(target));
  if (refusal) throw refusal;
}

/**
 * Applies every pending migration of `target` (PostgreSQL: under the migration advisory lock,
 * so hosts starting meanwhile wait; SQLite: each step in its own write transaction).
 * @throws QntxError SCHEMA_TOO_NEW, applying nothing, when a newer build migrated any part
 */
export async function migrateDatabase(target: string): Promise<Applied> {
  const status = await databaseStatus(target);
  const refusal = tooNewError(status);
  if (refusal) throw refusal;
  const applied: Applied = {};
  if (isPostgresUrl(target)) {
    await withPg(target, "migrating", async (client) => {
      for (const c of SCHEMA_COMPONENTS) {
        if (c.pg) applied[c.namespace] = [...(await migratePg(client, c.namespace, c.pg())).applied];
      }
    });
    return applied;
  }
  const db = openDatabase(target);
  try {
    for (const c of SCHEMA_COMPONENTS) {
      if (!c.sqlite) continue;
      const before = sqliteVersions(db).get(c.namespace) ?? 0;
      c.sqlite.migrate(db);
      const after = sqliteVersions(db).get(c.namespace) ?? 0;
      applied[c.namespace] = Array.from({ length: after - before }, (_, i) => before + i + 1);
    }
  } finally {
    db.close();
  }
  return applied;
}

function sqliteVersions(db: ReturnType<typeof openDatabase>): Versions {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (table === undefined) return new Map();
  const rows = db.prepare("SELECT namespace, max(version) AS v FROM schema_migrations GROUP BY namespace").all() as Array<{ namespace: string; v: number }>;
  return new Map(rows.map((r) => [r.namespace, r.v]));
}

async function pgVersions(client: { query: <R extends object>(sql: string) => Promise<{ rows: R[] }> }): Promise<Versions> {
  const table = await client.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (table.rows[0]?.t === null) return new Map();
  const rows = (await client.query<{ namespace: string; v: number }>("SELECT namespace, max(version) AS v FROM schema_migrations GROUP BY namespace")).rows;
  return new Map(rows.map((r) => [r.namespace, r.v]));
}

/**
 * Runs `work` on one connection to `url`, closed afterwards.
 * @throws QntxError DATABASE_UNAVAILABLE naming the URL (password masked)
 */
export async function withPg<T>(url: string, doing: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const pool = createHostPool(url, "qntx-db", 1);
  try {
    const client = await connectOrExplain(pool, url, doing);
    try {
      return await work(client);
    } finally {
      client.release();
    }
  } finally {
    await pool.end().catch(() => undefined);
  }
}
