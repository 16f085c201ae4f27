/**
 * Files the host keeps in its data dir: the admin token (mode 0600) that the CLI reads to
 * call the control API, and `host.json`, which tells the CLI where the running host listens.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomicSync } from "./atomic-file.js";

/** What `host.json` holds. */
export interface HostFile {
  readonly pid: number;
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:8770`. */
  readonly url: string;
  readonly version: string;
  readonly startedAt: string;
}

/** Paths of the host's files in `dataDir`. */
export function dataDirFiles(dataDir: string): { adminToken: string; hostFile: string; logs: string } {
  return { adminToken: join(dataDir, "admin.token"), hostFile: join(dataDir, "host.json"), logs: join(dataDir, "logs") };
}

/** Creates the data dir if needed and returns the admin token, creating it (0600) on first use. */
export function ensureAdminToken(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true });
  const file = dataDirFiles(dataDir).adminToken;
  try {
    const token = readFileSync(file, "utf8").trim();
    if (token.length >= 32) {
      chmodSync(file, 0o600);
      return token;
    }
  } catch {
    // Not there yet.
  }
  const token = randomBytes(32).toString("hex");
  writeFileAtomicSync(file, `${token}\n`, { mode: 0o600, durable: true });
  return token;
}

/** Writes `host.json` for the CLI (whole: a CLI reading it meanwhile sees the old file or the new). */
export function writeHostFile(dataDir: string, info: HostFile): void {
  writeFileAtomicSync(dataDirFiles(dataDir).hostFile, `${JSON.stringify(info, null, 2)}\n`);
}

/** Removes `host.json` if it still describes this process. */
export function removeHostFile(dataDir: string, pid: number): void {
  const file = dataDirFiles(dataDir).hostFile;
  try {
    const info = JSON.parse(readFileSync(file, "utf8")) as HostFile;
    if (info.pid === pid) rmSync(file, { force: true });
  } catch {
    // Already gone or unreadable: nothing to clean.
  }
}

/** Reads `host.json`, or undefined when there is none. */
export function readHostFile(dataDir: string): HostFile | undefined {
  try {
    return JSON.parse(readFileSync(dataDirFiles(dataDir).hostFile, "utf8")) as HostFile;
  } catch {
    return undefined;
  }
}
