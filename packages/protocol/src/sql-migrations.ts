/**
 * Schema migrations on PostgreSQL, shared by the stores that keep tables there (`@qntx/ats`,
 * `@qntx/pulse`): numbered SQL files (`migrations/pg/NNN_name.sql`), applied
 * at start under a session advisory lock, each in its own transaction with its row in
 * `schema_migrations` (the same bookkeeping table and namespaces as the SQLite runner,
 * migrations.ts). Several hosts starting together on one database take turns on the lock:
 * the first applies what is missing, the others find it applied. A database migrated past
 * what this build knows is refused, naming both versions.
 */
import { readdirSync, readFileSync } from "node:fs";
import { QntxError } from "./errors.js";

/** The one thing the runner needs of a connection (a `pg` client fits): a query with parameters. */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** What a migration run did. */
export interface MigrateResult {
  /** Version found before running (0 = namespace never migrated). */
  readonly from: number;
  /** Version after running (= migrations.length). */
  readonly to: number;
  /** Versions applied by this call, in order (empty when already up to date). */
  readonly applied: readonly number[];
}

/** Builds the error for a database migrated past what this build knows. */
export type TooNewError = (namespace: string, found: number, known: number, elsewhere: string) => Error;

/** The default {@link TooNewError}: `SCHEMA_TOO_NEW`, naming both versions. */
export const schemaTooNewError: TooNewError = (namespace, found, known, elsewhere) =>
  new QntxError("SCHEMA_TOO_NEW", `database schema "${namespace}" is at version ${found}, newer than this build knows (${known}); upgrade qntx or ${elsewhere}`, {
    hint: `this qntx understands "${namespace}" up to version ${known}`,
  });

/** One migration file. */
export interface SqlMigration {
  /** Its number: the file `NNN_…` is version NNN. */
  readonly version: number;
  /** The file name, for messages. */
  readonly name: string;
  /** The SQL, run as one transaction (several statements allowed). */
  readonly sql: string;
}

/**
 * The advisory lock every qntx schema migration on a database takes ("qntx" in ASCII): one
 * lock for all namespaces, so Pulse's migrations (which may one day reference attestations)
 * never interleave with these.
 */
export const MIGRATION_LOCK_KEY = 0x716e7478;

const FILE_NAME = /^(\d+)_[\w.-]+\.sql$/;

/**
 * Reads the numbered `.sql` files of `dir`, in order.
 * @throws Error when the numbers are not 1, 2, 3… without gap or repeat (a file lost in a
 *   merge must not be skipped silently)
 */
export function loadSqlMigrations(dir: string): SqlMigration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(".sql"));
  const migrations = files.map((name) => {
    const match = FILE_NAME.exec(name);
    if (!match) throw new Error(`migration file ${name} in ${dir}: name it NNN_what.sql (e.g. 002_add_index.sql)`);
    return { version: Number(match[1]), name, sql: readFileSync(`${dir}/${name}`, "utf8") };
  });
  migrations.sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations in ${dir}: expected version ${i + 1}, found ${m.name} (numbers must run 1, 2, 3… without gaps or repeats)`);
  });
  return migrations;
}

const BOOKKEEPING_SQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  namespace  text    NOT NULL,
  version    integer NOT NULL,
  applied_at bigint  NOT NULL,
  PRIMARY KEY (namespace, version)
)`;

/**
 * Brings `namespace` up to the last of `migrations` on the connection `client`, holding the
 * migration advisory lock throughout (released before returning, also on failure).
 * @throws the `tooNew` error (default QntxError SCHEMA_TOO_NEW) when the database is at a newer version than `migrations`
 *   knows; the SQL error of a failing step (that step is rolled back, earlier ones stay)
 */
export async function migratePg(client: SqlClient, namespace: string, migrations: readonly SqlMigration[], tooNew: TooNewError = schemaTooNewError): Promise<MigrateResult> {
  if (namespace === "") throw new Error("migratePg: namespace must be non-empty");
  await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
  try {
    await client.query(BOOKKEEPING_SQL);
    const from = await pgSchemaVersion(client, namespace);
    const known = migrations.length;
    if (from > known) throw tooNew(namespace, from, known, "point it at another database");
    const applied: number[] = [];
    for (const step of migrations.slice(from)) {
      await client.query("BEGIN");
      try {
        await client.query(step.sql);
        await client.query("INSERT INTO schema_migrations (namespace, version, applied_at) VALUES ($1, $2, $3)", [namespace, step.version, Date.now()]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw new Error(`migration ${namespace} ${step.name} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(step.version);
    }
    return { from, to: known, applied };
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
  }
}

/** The highest applied version of `namespace` (0 when none, or no bookkeeping table yet). */
export async function pgSchemaVersion(client: SqlClient, namespace: string): Promise<number> {
  const table = await client.query("SELECT to_regclass('schema_migrations') AS t");
  if ((table.rows[0] as { t: string | null } | undefined)?.t === null) return 0;
  const row = await client.query("SELECT max(version) AS v FROM schema_migrations WHERE namespace = $1", [namespace]);
  return Number((row.rows[0] as { v: number | string | null } | undefined)?.v ?? 0);
}
