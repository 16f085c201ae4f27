/**
 * Jest `globalSetup`: starts one PostgreSQL server for the whole run (test files run in
 * parallel workers; each clones its own database from it, see database.ts). Without the
 * server programs the run goes on and PostgreSQL tests are skipped, with the reason printed
 * once — except under `CI=true`, where a missing server fails the run: CI installs it.
 */
import { findPgBinaries } from "./binaries.js";
import { SKIP_VAR, URL_VAR } from "./env.js";
import { startPgServer, sweepStaleServers, type PgServer } from "./server.js";

/** The server this process started, for the teardown; shared by projects that both set it up. */
export const state: { server?: PgServer; users: number } = ((globalThis as { __qntxTestPg?: { server?: PgServer; users: number } }).__qntxTestPg ??= { users: 0 });

/** Starts the server (or records why not) and publishes it through the environment. */
export default async function globalSetup(): Promise<void> {
  state.users++;
  // Another project of this run started it, or the caller runs a server of their own.
  if (process.env[URL_VAR] || process.env[SKIP_VAR]) return;
  const lookup = findPgBinaries();
  if ("missing" in lookup) {
    if (process.env.CI === "true") throw new Error(`PostgreSQL tests cannot run under CI=true: ${lookup.missing} (.ci/run installs postgresql through APT_PACKAGES)`);
    process.env[SKIP_VAR] = lookup.missing;
    console.log(`\n[@qntx/testing-pg] PostgreSQL tests skipped: ${lookup.missing}\n`);
    return;
  }
  const swept = await sweepStaleServers(lookup.found);
  if (swept.length > 0) console.log(`\n[@qntx/testing-pg] stopped ${swept.length} PostgreSQL server(s) left by killed test runs`);
  state.server = await startPgServer(lookup.found);
  process.env[URL_VAR] = state.server.url;
}
