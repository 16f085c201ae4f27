/**
 * Files the host keeps in its data dir: the admin token that the CLI reads to call the control
 * API, and `host.json`, which tells the CLI where the running host listens. The data dir holds
 * job payloads, attestations, tokens and logs: it is 0700 and everything the host writes in it
 * is 0600, whatever the umask (checked and narrowed at every start).
 */
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomicSync } from "./atomic-file.js";

/** What `host.json` holds. */
export interface HostFile {
  readonly pid: number;
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:8770`. */
  readonly url: string;
  readonly version: string;
  readonly startedAt: string;
  /** With `[host] tls`: the PEM file the CLI trusts for `url` (`tls.ca`, else `tls.cert`). */
  readonly tlsCa?: string;
}

/** Paths of the host's files in `dataDir`. */
export function dataDirFiles(dataDir: string): { adminToken: string; hostFile: string; logs: string } {
  return { adminToken: join(dataDir, "admin.token"), hostFile: join(dataDir, "host.json"), logs: join(dataDir, "logs") };
}

/** Mode of the data dir and of the folders in it. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file the host writes in the data dir. */
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and its parents) if needed and makes it 0700, also when an older host left it open. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/**
 * Creates `file` empty if it does not exist, and makes it 0600 either way. For files another
 * library creates (the SQLite database): SQLite gives its -wal and -shm files the mode of the
 * database file, so they follow.
 */
export function ensurePrivateFile(file: string): void {
  closeSync(openSync(file, "a", PRIVATE_FILE_MODE));
  chmodSync(file, PRIVATE_FILE_MODE);
}

/** Creates the data dir if needed (0700) and returns the admin token, creating it (0600) on first use. */
export function ensureAdminToken(dataDir: string): string {
  ensurePrivateDir(dataDir);
  const file = dataDirFiles(dataDir).adminToken;
  try {
    const token = readFileSync(file, "utf8").trim();
    if (token.length >= 32) {
      chmodSync(file, PRIVATE_FILE_MODE);
      return token;
    }
  } catch {
    // Not there yet.
  }
  const token = randomBytes(32).toString("hex");
  writeFileAtomicSync(file, `${token}\n`, { mode: PRIVATE_FILE_MODE, durable: true });
  return token;
}

/** Writes `host.json` for the CLI (whole: a CLI reading it meanwhile sees the old file or the new). */
export function writeHostFile(dataDir: string, info: HostFile): void {
  writeFileAtomicSync(dataDirFiles(dataDir).hostFile, `${JSON.stringify(info, null, 2)}\n`, { mode: PRIVATE_FILE_MODE });
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
