/**
 * Opening the host's databases, in one place: the attestation store and Pulse's storage on
 * the embedded SQLite file `<data_dir>/qntx.db` (the default), or on a shared PostgreSQL
 * database when `[host] database` / `$QNTX_DATABASE_URL` names one (several hosts on one
 * database form one installation, docs/scale-out.md). The SQLite file is opened either way:
 * what stays per host (the search index, the usage record) lives there.
 *
 * A database that cannot be opened at start is a {@link QntxError} `DATABASE_UNAVAILABLE`
 * naming the URL (password masked), where it was set, and what to check.
 */
import { join } from "node:path";
import {
  createPool,
  openDatabase,
  PostgresAttestationStore,
  SqliteAttestationStore,
  type AttestationStore,
  type PgPool,
  type SqliteDatabase,
} from "@qntx/ats";
import { isConnectionError, maskUrl, QntxError, reasonOf } from "@qntx/protocol";
import { openPgPulseStores, type PgPulseStores, type PulseOptions } from "@qntx/pulse";
import type { Logger } from "pino";
import type { HostSettings } from "../config/types.js";
import { ensurePrivateFile } from "../data-dir.js";

/** The shared PostgreSQL database, for what else the host keeps there (Pulse, host directory, usage). */
export interface SharedDatabase {
  /** Its URL as configured (with the password: never log it, use {@link SharedDatabase.shown}). */
  readonly url: string;
  /** The URL with its password masked. */
  readonly shown: string;
  /** A pool of the host's own, apart from the attestation store's (closed by {@link HostDatabase.close}). */
  readonly pool: PgPool;
}

/** Everything the host stores, opened. */
export interface HostDatabase {
  readonly kind: "sqlite" | "postgres";
  /** Where it is, fit for logs: the SQLite file, or the masked URL. */
  readonly shown: string;
  /** `<data_dir>/qntx.db`: everything on SQLite; what stays per host on PostgreSQL. */
  readonly sqlite: SqliteDatabase;
  readonly store: AttestationStore;
  /** Streams read through this one (on SQLite a read-only second connection; on PostgreSQL the store itself). */
  readonly readStore: AttestationStore;
  /** Set when the host runs on PostgreSQL. */
  readonly shared: SharedDatabase | undefined;
  /** Pulse's storage, as its options take it. */
  readonly pulse: Pick<PulseOptions, "db" | "stores">;
  /** Whether the database can be reached now (an embedded one always can). */
  health(): DatabaseStatus;
  /** Closes the stores, the pool and the SQLite file. */
  close(): Promise<void>;
}

/** What `GET /api/host` says of the database. */
export interface DatabaseStatus {
  readonly kind: "sqlite" | "postgres";
  /** The file, or the URL with its password masked. */
  readonly where: string;
  /** False while the attestation store or Pulse cannot reach it (both retry on their own). */
  readonly healthy: boolean;
  /** Why not, and what the host does meanwhile. */
  readonly detail?: string;
  /** Unix ms since when it has been unreachable. */
  readonly since?: number;
}

/** Opens the host's databases from its settings. */
export async function openHostDatabase(settings: HostSettings, logger: Logger): Promise<HostDatabase> {
  const dbPath = join(settings.dataDir, "qntx.db");
  ensurePrivateFile(dbPath);
  const sqlite = openDatabase(dbPath);
  const onWatchError = (err: unknown, a: { id: string }): void => logger.warn({ attestation: a.id, err: String(err) }, "attestation watcher failed");
  try {
    if (settings.database === undefined) {
      const store = new SqliteAttestationStore(sqlite, { onWatchError });
      // Streams read on their own connection: an open cursor on the main one would block writers.
      const readStore = new SqliteAttestationStore(openDatabase(dbPath, { readonly: true }), { ownsDatabase: true });
      return {
        kind: "sqlite", shown: dbPath, sqlite, store, readStore, shared: undefined, pulse: { db: sqlite },
        health: () => ({ kind: "sqlite", where: dbPath, healthy: true }),
        close: async () => {
          await store.close();
          await readStore.close();
          sqlite.close();
        },
      };
    }
    return await openShared(settings.database, settings.databaseFrom ?? "[host] database", sqlite, onWatchError, logger);
  } catch (err) {
    sqlite.close();
    throw err;
  }
}

async function openShared(url: string, from: string, sqlite: SqliteDatabase, onWatchError: (err: unknown, a: { id: string }) => void, logger: Logger): Promise<HostDatabase> {
  const shown = maskUrl(url);
  const log = logger.child({ component: "database" });
  let store: PostgresAttestationStore;
  try {
    store = await PostgresAttestationStore.open(url, { onWatchError, log: (level, message) => log[level]({ database: shown }, message) });
  } catch (err) {
    throw startupError(url, from, err);
  }
  const pool = createPool(url, { applicationName: "qntx-host" });
  // An idle connection the server drops is replaced at the next checkout; without a listener
  // the pool's error event would end the process.
  pool.on("error", () => undefined);
  let pulse: PgPulseStores;
  try {
    pulse = await openPgPulseStores(pool, url, { logger: logger.child({ component: "pulse" }) });
  } catch (err) {
    await store.close();
    await pool.end().catch(() => undefined);
    throw startupError(url, from, err);
  }
  logger.info({ database: shown, from }, "attestations and Pulse on PostgreSQL");
  return {
    kind: "postgres", shown, sqlite, store, readStore: store, shared: { url, shown, pool }, pulse: { stores: pulse },
    health: () => {
      // Unhealthy when either part is, with the earliest outage's time.
      const down = [store.health(), pulse.jobs.health()].filter((h) => !h.healthy);
      if (down.length === 0) return { kind: "postgres", where: shown, healthy: true };
      return { kind: "postgres", where: shown, healthy: false, detail: down.map((h) => h.detail).join("; "), since: Math.min(...down.map((h) => h.since ?? Date.now())) };
    },
    close: async () => {
      await pulse.close();
      await store.close();
      await pool.end().catch(() => undefined);
      sqlite.close();
    },
  };
}

/**
 * The start-up error of a database that cannot be opened: the URL (password masked), the
 * setting it came from, the server's reason, and a hint for that reason.
 */
export function startupError(url: string, from: string, err: unknown): QntxError {
  if (err instanceof QntxError && err.code === "SCHEMA_TOO_NEW") return err;
  const shown = maskUrl(url);
  // The store wraps the driver's error: its cause says what the server answered.
  const cause = (err as { cause?: unknown }).cause ?? err;
  const codes = [(err as { code?: unknown }).code, (cause as { code?: unknown }).code];
  const reason = reasonOf(cause);
  let hint: string;
  if (codes.includes("28P01") || codes.includes("28000")) hint = `the server refused the user or password: check them in ${from}`;
  else if (codes.includes("3D000")) hint = `create the database (createdb), or fix its name in ${from}`;
  else if (isConnectionError(cause)) hint = `check that PostgreSQL runs and accepts connections at that host and port (${from})`;
  else hint = `check the server's log; the URL is set in ${from}`;
  return new QntxError("DATABASE_UNAVAILABLE", `cannot open the database ${shown} (${from}): ${reason}`, { hint, cause: err });
}
