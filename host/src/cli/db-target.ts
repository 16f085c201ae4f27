/**
 * Which database a `qntx db` command acts on: `--database`, else `$QNTX_DATABASE_URL`, else
 * the config's `[host] database`, else the embedded SQLite file `<data_dir>/qntx.db`.
 */
import { join } from "node:path";
import type { Command } from "commander";
import { loadConfig } from "../config/index.js";
import { defaultDataDir } from "../config/paths.js";
import type { GlobalOptions } from "./common.js";

/**
 * The database named by the command's options and the environment (a URL or a file path);
 * with `sqliteOnly` the installation's SQLite file whatever database is configured (what
 * `qntx db copy` copies from).
 */
export function databaseTarget(command: Command, explicit?: string, options: { sqliteOnly?: boolean } = {}): string {
  if (explicit) return explicit;
  if (process.env.QNTX_DATABASE_URL && !options.sqliteOnly) return process.env.QNTX_DATABASE_URL;
  const globals = command.optsWithGlobals<GlobalOptions>();
  let dataDir = globals.dataDir;
  try {
    const host = loadConfig({ configPath: globals.config }).host as { dataDir: string; database?: string };
    if (host.database && !options.sqliteOnly) return host.database;
    dataDir ??= host.dataDir;
  } catch {
    // No usable config: the data dir's file.
  }
  return join(dataDir ?? defaultDataDir(), "qntx.db");
}
