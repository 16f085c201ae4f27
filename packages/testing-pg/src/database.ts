/**
 * One database per test file, on the run's server (global-setup.ts): an empty one, or a clone
 * of a template that the first test file to ask for it prepares (e.g. migrates) while the
 * others wait on an advisory lock. `CREATE DATABASE … TEMPLATE` copies files, so a migrated
 * schema costs one migration per run, not one per file.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { pgServerUrl } from "./env.js";

/** A database of its own for one test file. */
export interface TestDatabase {
  /** Its name. */
  readonly name: string;
  /** `postgres://postgres@127.0.0.1:<port>/<name>`. */
  readonly url: string;
  /** Drops it, ending connections still open on it. Idempotent. */
  drop(): Promise<void>;
}

/** A template every clone starts from. */
export interface TemplateSpec {
  /** Names the template (letters, digits, `_`): change it when `prepare` changes meaning. */
  readonly name: string;
  /**
   * Brings the empty template database at `url` to the state clones start in. Must close
   * every connection it opened before resolving: a template cannot be copied while in use.
   */
  prepare(url: string): Promise<void>;
}

let counter = 0;

function quoteIdent(name: string): string {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`database name ${JSON.stringify(name)}: use a-z, 0-9 and _`);
  return `"${name}"`;
}

/** The URL of database `name` on the run's server. */
export function databaseUrl(name: string): string {
  const url = new URL(pgServerUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgServerUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Runs one statement as the server's superuser on its maintenance database (roles, settings:
 * what a test needs beyond its own database).
 */
export async function adminQuery(sql: string, values: readonly unknown[] = []): Promise<pg.QueryResult> {
  return withAdmin((client) => client.query(sql, values as unknown[]));
}

/** Makes sure template `spec` exists and is prepared; the first caller of the run prepares it. */
async function ensureTemplate(client: pg.Client, spec: TemplateSpec): Promise<string> {
  const name = `qntx_tmpl_${spec.name}`;
  const building = `${name}__building`;
  await client.query("SELECT pg_advisory_lock(hashtext($1))", [name]);
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (rowCount) return name;
    // Built under another name and renamed when done: a half-prepared template is never cloned.
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(building)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${quoteIdent(building)}`);
    try {
      await spec.prepare(databaseUrl(building));
      await client.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(name)}`);
    } catch (err) {
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(building)} WITH (FORCE)`).catch(() => undefined);
      throw new Error(`preparing the test database template ${name} failed: ${(err as Error).message}`, { cause: err });
    }
    return name;
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtext($1))", [name]);
  }
}

/**
 * Creates a database for the calling test file: a clone of `template` (prepared once per run)
 * or, without one, an empty database.
 * @throws Error when the run has no server (see {@link pgServerUrl})
 */
export async function createTestDatabase(template?: TemplateSpec): Promise<TestDatabase> {
  const name = `qntx_t${process.pid}_${++counter}_${randomBytes(3).toString("hex")}`;
  await withAdmin(async (client) => {
    const from = template ? await ensureTemplate(client, template) : "template0";
    await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(from)}`);
  });
  let dropped = false;
  return {
    name,
    url: databaseUrl(name),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
    },
  };
}
