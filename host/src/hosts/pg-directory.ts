/**
 * The host directory on PostgreSQL: each host upserts its row of `qntx_hosts` at start and
 * every heartbeat (address, version, running plugins), and marks it stopped when it closes.
 * A host that stops heart-beating (SIGKILL, machine gone) is shown `gone` once it has missed
 * {@link GONE_AFTER_BEATS} beats. Times come from the database's clock, so hosts whose clocks
 * disagree still agree on who is gone.
 */
import { migratePg, type PgPool } from "@qntx/ats";
import { QntxError } from "@qntx/protocol";
import { hostPgMigrations } from "../schema/components.js";
import { connectOrExplain } from "../schema/pg-pool.js";
import { DEFAULT_HEARTBEAT_MS, hostState, sortHosts, type HostAnnouncement, type HostDirectory, type HostView } from "./directory.js";

/** Options of {@link PgHostDirectory.start}. */
export interface PgHostDirectoryOptions {
  /** Time between heartbeats, in ms (default 5000). */
  readonly heartbeatMs?: number;
  /** Hears a heartbeat that failed (the database away), once per failure streak. */
  readonly onError?: (err: unknown) => void;
}

const NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
const UPSERT = `INSERT INTO qntx_hosts (id, address, version, plugins, started_at, last_seen)
VALUES ($1, $2, $3, $4, ${NOW_MS}, ${NOW_MS})
ON CONFLICT (id) DO UPDATE SET address = excluded.address, version = excluded.version, plugins = excluded.plugins,
  last_seen = excluded.last_seen, stopped_at = NULL`;
// Hosts gone for a day leave the directory.
const FORGET_MS = 24 * 3_600_000;

interface HostRow {
  id: string;
  address: string;
  version: string;
  plugins: string;
  last_seen: number;
  stopped_at: number | null;
  now: number;
}

/** {@link HostDirectory} of the hosts sharing one PostgreSQL database. */
export class PgHostDirectory implements HostDirectory {
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private closed = false;

  private constructor(
    private readonly pool: PgPool,
    private readonly announce: () => HostAnnouncement,
    private readonly heartbeatMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * Migrates `qntx_hosts` on `pool` (which stays the caller's to end), writes this host's row
   * and starts the heartbeat.
   * @param url the pool's database, for messages (its password is masked)
   * @throws QntxError DATABASE_UNAVAILABLE naming the URL; SCHEMA_TOO_NEW
   */
  static async start(pool: PgPool, url: string, announce: () => HostAnnouncement, options: PgHostDirectoryOptions = {}): Promise<PgHostDirectory> {
    const client = await connectOrExplain(pool, url, "opening the host directory");
    try {
      await migratePg(client, "hosts", hostPgMigrations("hosts"));
    } finally {
      client.release();
    }
    const directory = new PgHostDirectory(pool, announce, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS, options.onError ?? (() => undefined));
    await directory.beat();
    directory.timer = setInterval(() => void directory.beat().then(() => (directory.failing = false), (err: unknown) => directory.failed(err)), directory.heartbeatMs);
    directory.timer.unref();
    return directory;
  }

  async list(): Promise<HostView[]> {
    let rows: HostRow[];
    try {
      rows = (await this.pool.query<HostRow>(`SELECT *, ${NOW_MS} AS now FROM qntx_hosts`)).rows;
    } catch (err) {
      throw new QntxError("DATABASE_UNAVAILABLE", `reading the host directory: ${(err as Error).message || String(err)}`, { cause: err });
    }
    return sortHosts(rows.map((r) => ({
      id: r.id, address: r.address, version: r.version, plugins: JSON.parse(r.plugins) as string[],
      lastSeen: new Date(r.last_seen).toISOString(), state: hostState(r.last_seen, r.stopped_at !== null, r.now, this.heartbeatMs),
    })));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.pool.query(`UPDATE qntx_hosts SET stopped_at = ${NOW_MS} WHERE id = $1`, [this.announce().id]).catch(() => undefined);
  }

  /** Writes this host's row, and forgets hosts gone for a day. */
  private async beat(): Promise<void> {
    if (this.closed) return;
    const self = this.announce();
    await this.pool.query(UPSERT, [self.id, self.address, self.version, JSON.stringify(self.plugins)]);
    await this.pool.query(`DELETE FROM qntx_hosts WHERE last_seen < ${NOW_MS} - $1`, [FORGET_MS]);
  }

  private failed(err: unknown): void {
    if (!this.failing) this.onError(err);
    this.failing = true;
  }
}
