/**
 * How the jest run's global setup tells test files (in other worker processes) about the
 * server: environment variables, which workers inherit since jest starts them after the setup.
 */

/** The server's maintenance-database URL. */
export const URL_VAR = "QNTX_TEST_PG_URL";
/** Why PostgreSQL tests are skipped in this run (set instead of the URL). */
export const SKIP_VAR = "QNTX_TEST_PG_SKIP";

/** Why this run has no PostgreSQL server, or undefined when it has one. */
export function pgSkipReason(): string | undefined {
  return process.env[URL_VAR] ? undefined : process.env[SKIP_VAR];
}

/**
 * The server's maintenance-database URL.
 * @throws Error when neither the URL nor a skip reason is set: the test ran without the
 *   global setup
 */
export function pgServerUrl(): string {
  const url = process.env[URL_VAR];
  if (url) return url;
  throw new Error(
    process.env[SKIP_VAR]
      ? `PostgreSQL tests are skipped in this run: ${process.env[SKIP_VAR]}`
      : `no test PostgreSQL server: ${URL_VAR} is not set. Run the tests through jest with the package's config ` +
          `(its globalSetup, @qntx/testing-pg/global-setup, starts the server), or point ${URL_VAR} at a server you started`,
  );
}
