/**
 * The host directory: which hosts share this installation's database, what each runs, and
 * whether it is still there. On PostgreSQL every host heart-beats into the `qntx_hosts` table
 * (pg-directory.ts); on the embedded SQLite file the installation is this host alone
 * (local-directory.ts). `GET /api/hosts` and `qntx hosts` show {@link HostView}s.
 */

/** What a host tells the others about itself at each heartbeat. */
export interface HostAnnouncement {
  /** This host's id (unique per process: hostname, pid and a random tail). */
  readonly id: string;
  /** The base URL of its HTTP API. */
  readonly address: string;
  /** The qntx version it runs. */
  readonly version: string;
  /** The names of its plugins that are running now. */
  readonly plugins: readonly string[];
}

/** One host as `GET /api/hosts` answers it (the dashboard reads exactly this shape). */
export interface HostView {
  readonly id: string;
  readonly address: string;
  readonly version: string;
  readonly plugins: string[];
  /** When it last heart-beat (ISO 8601, the database's clock). */
  readonly lastSeen: string;
  /** `gone`: stopped, or no heartbeat for {@link GONE_AFTER_BEATS} intervals. */
  readonly state: "up" | "gone";
}

/** Heartbeats a host may miss before it is shown gone. */
export const GONE_AFTER_BEATS = 3;

/** Default time between heartbeats, in ms. */
export const DEFAULT_HEARTBEAT_MS = 5_000;

/** The hosts of an installation. */
export interface HostDirectory {
  /** Every host known, up ones first, then by id. */
  list(): Promise<HostView[]>;
  /** Marks this host stopped and ends the heartbeat. Idempotent. */
  close(): Promise<void>;
}

/**
 * A host's state from its last heartbeat: `gone` once stopped or silent for
 * {@link GONE_AFTER_BEATS} heartbeat intervals.
 */
export function hostState(lastSeenMs: number, stopped: boolean, nowMs: number, heartbeatMs: number): "up" | "gone" {
  return stopped || nowMs - lastSeenMs > GONE_AFTER_BEATS * heartbeatMs ? "gone" : "up";
}

/** Sorts hosts for display: up ones first, then by id. */
export function sortHosts(hosts: HostView[]): HostView[] {
  return hosts.sort((a, b) => (a.state === b.state ? a.id.localeCompare(b.id) : a.state === "up" ? -1 : 1));
}
