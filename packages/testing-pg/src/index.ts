/**
 * @qntx/testing-pg: a real PostgreSQL server for the test suite.
 *
 * - jest `globalSetup: "@qntx/testing-pg/global-setup"` and `globalTeardown:
 *   "@qntx/testing-pg/global-teardown"` start one server per run and stop it;
 * - {@link createTestDatabase} gives each test file a database of its own, cloned from a
 *   template prepared once per run;
 * - {@link pgSkipReason} says why this run has no server (the package is not installed);
 * - {@link startTcpProxy} stands between a client and the server, to cut the database away.
 */
export { adminQuery, createTestDatabase, databaseUrl, type TemplateSpec, type TestDatabase } from "./database.js";
export { pgServerUrl, pgSkipReason, SKIP_VAR, URL_VAR } from "./env.js";
export { findPgBinaries, pgCommand, type PgBinaries, type PgBinariesLookup } from "./binaries.js";
export { freePort, PASSWORD_ROLE, startPgServer, sweepStaleServers, type PgServer } from "./server.js";
export { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";
