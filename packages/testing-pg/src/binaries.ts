/**
 * Finding PostgreSQL's server programs (`initdb`, `pg_ctl`) and the account to run them as.
 * Debian's `postgresql` package puts them in `/usr/lib/postgresql/<major>/bin`, off PATH, and
 * `initdb` refuses to run as root: as root the server runs as the `postgres` user the package
 * creates, through `runuser`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Where the programs are, and how to run them. */
export interface PgBinaries {
  /** Directory holding initdb and pg_ctl. */
  readonly binDir: string;
  /** The account the server runs as when we are root (undefined: our own). */
  readonly runAs: string | undefined;
}

/** The programs, or why they cannot be used. */
export type PgBinariesLookup = { readonly found: PgBinaries } | { readonly missing: string };

const DEBIAN_ROOT = "/usr/lib/postgresql";

function hasServer(dir: string): boolean {
  return existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"));
}

function candidateDirs(): string[] {
  // An explicit choice is the only one: a wrong QNTX_PG_BINDIR must not be papered over.
  if (process.env.QNTX_PG_BINDIR) return [process.env.QNTX_PG_BINDIR];
  const dirs: string[] = [];
  if (existsSync(DEBIAN_ROOT)) {
    // The newest major first.
    const majors = readdirSync(DEBIAN_ROOT).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
    dirs.push(...majors.map((m) => join(DEBIAN_ROOT, m, "bin")));
  }
  try {
    dirs.push(execFileSync("pg_config", ["--bindir"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
  } catch {
    // No pg_config on PATH: the directories above are all there is.
  }
  return dirs;
}

/**
 * Looks for the server programs — only in `QNTX_PG_BINDIR` when it is set, else in Debian's
 * directories (newest major first) and `pg_config --bindir` — and, as root, for the
 * `postgres` account.
 */
export function findPgBinaries(): PgBinariesLookup {
  const binDir = candidateDirs().find(hasServer);
  if (binDir === undefined) {
    const where = process.env.QNTX_PG_BINDIR ? `in QNTX_PG_BINDIR=${process.env.QNTX_PG_BINDIR}` : `under ${DEBIAN_ROOT} or pg_config --bindir`;
    return { missing: `no PostgreSQL server programs (initdb, pg_ctl) ${where}: install the Debian package postgresql, or set QNTX_PG_BINDIR` };
  }
  if (process.getuid?.() !== 0) return { found: { binDir, runAs: undefined } };
  try {
    execFileSync("id", ["-u", "postgres"], { stdio: "ignore" });
  } catch {
    return { missing: `running as root, PostgreSQL (${binDir}) needs the postgres account to run as, and there is none` };
  }
  return { found: { binDir, runAs: "postgres" } };
}

/** The command line that runs `program` of `bins` (through runuser when we are root). */
export function pgCommand(bins: PgBinaries, program: string, args: readonly string[]): { file: string; args: string[] } {
  const path = join(bins.binDir, program);
  return bins.runAs === undefined ? { file: path, args: [...args] } : { file: "runuser", args: ["-u", bins.runAs, "--", path, ...args] };
}
