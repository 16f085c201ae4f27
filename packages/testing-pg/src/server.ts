/**
 * A throwaway PostgreSQL server: `initdb` into a fresh temp dir, `pg_ctl start` on
 * 127.0.0.1 and a free port, trust authentication (nothing listens beyond loopback, and no
 * password exists to leak), stopped and deleted by {@link PgServer.stop}. A server left by a
 * test run that was killed is found by its owner file and stopped by the next run.
 */
import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { pgCommand, type PgBinaries } from "./binaries.js";

const run = promisify(execFile);

/** A running server. */
export interface PgServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: the maintenance database, as superuser. */
  readonly url: string;
  readonly port: number;
  /** The temp dir holding the data directory, the socket and the log. */
  readonly dir: string;
  /** Stops the server (fast: nothing is kept) and deletes its directory. Idempotent. */
  stop(): Promise<void>;
}

const DIR_PREFIX = "qntx-pg-";

/**
 * The one role the server checks a password for (scram-sha-256 over TCP; every other role is
 * trusted): tests of a wrong password create it with a password of their own choosing
 * (`ALTER ROLE … PASSWORD`), so no password is ever written in the repository.
 */
export const PASSWORD_ROLE = "qntx_password_check";
const OWNER_FILE = "owner.json";

// A test cluster keeps nothing: no fsync, no full-page writes (the 2-core machine is shared).
// max_connections: parallel test files each hold a pool and a LISTEN connection.
const SERVER_SETTINGS = [
  "-c listen_addresses=127.0.0.1", "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off", "-c max_connections=300",
];

/** A port on 127.0.0.1 that was free a moment ago (another process may take it before it is bound). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function pg(bins: PgBinaries, program: string, args: readonly string[]): Promise<string> {
  const { file, args: argv } = pgCommand(bins, program, args);
  const { stdout } = await run(file, argv, { encoding: "utf8", timeout: 60_000 });
  return stdout;
}

function logTail(dir: string): string {
  const log = join(dir, "server.log");
  return existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").slice(-8).join("\n") : "(no server log)";
}

/**
 * Creates a cluster and starts it. A port taken between choosing and binding is retried with
 * another one.
 * @throws Error with the server's last log lines when it does not start
 */
export async function startPgServer(bins: PgBinaries): Promise<PgServer> {
  const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  writeFileSync(join(dir, OWNER_FILE), JSON.stringify({ pid: process.pid }));
  if (bins.runAs !== undefined) {
    const { stdout } = await run("id", ["-u", bins.runAs], { encoding: "utf8" });
    const { stdout: gid } = await run("id", ["-g", bins.runAs], { encoding: "utf8" });
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, "data");
  const stop = async (): Promise<void> => {
    if (!existsSync(dir)) return;
    await pg(bins, "pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await pg(bins, "initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]);
    // First match wins: this line goes before initdb's trust lines.
    const hba = join(data, "pg_hba.conf");
    writeFileSync(hba, `host all ${PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, "utf8")}`);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const options = [`-p ${port}`, `-k ${dir}`, ...SERVER_SETTINGS].join(" ");
      try {
        await pg(bins, "pg_ctl", ["-D", data, "-o", options, "-l", join(dir, "server.log"), "-w", "-t", "60", "start"]);
        return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, dir, stop };
      } catch (err) {
        if (attempt >= 3) throw new Error(`PostgreSQL did not start (port ${port}): ${(err as Error).message}\n${logTail(dir)}`);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Stops servers whose test run died without stopping them (their owner process is gone).
 * @returns the directories removed
 */
export async function sweepStaleServers(bins: PgBinaries): Promise<string[]> {
  const swept: string[] = [];
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(DIR_PREFIX))) {
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      owner = (JSON.parse(readFileSync(join(dir, OWNER_FILE), "utf8")) as { pid: number }).pid;
    } catch {
      continue; // being created right now, or not ours
    }
    if (alive(owner)) continue;
    if (existsSync(join(dir, "data", "postmaster.pid"))) {
      await pg(bins, "pg_ctl", ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"]).catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
    swept.push(dir);
  }
  return swept;
}
