/**
 * Opening the host directory for a host: on PostgreSQL the shared `qntx_hosts` table, on the
 * embedded SQLite file this host alone.
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { PgPool } from "@qntx/ats";
import type { HostAnnouncement, HostDirectory } from "./directory.js";
import { LocalHostDirectory } from "./local-directory.js";
import { PgHostDirectory, type PgHostDirectoryOptions } from "./pg-directory.js";

export type { HostAnnouncement, HostDirectory, HostView } from "./directory.js";

/** A new host id: the machine's name, the process id and a random tail (pids repeat across machines and containers). */
export function newHostId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(2).toString("hex")}`;
}

/** The directory of the installation: the shared PostgreSQL database's when there is one, else this host alone. */
export async function openHostDirectory(shared: { pool: PgPool; url: string } | undefined, announce: () => HostAnnouncement, options: PgHostDirectoryOptions = {}): Promise<HostDirectory> {
  return shared ? PgHostDirectory.start(shared.pool, shared.url, announce, options) : new LocalHostDirectory(announce);
}
