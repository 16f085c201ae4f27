/**
 * A PostgreSQL server for a bench tool: the URL given, or a throwaway one started with
 * @qntx/testing-pg (initdb in a temp dir, 127.0.0.1, fsync off), stopped by `stop()`.
 */
import { findPgBinaries, startPgServer } from "@qntx/testing-pg";
import pg from "pg";

/**
 * @param {string | undefined} url a server's maintenance-database URL, or undefined to start one
 * @returns {Promise<{ url: string, database(name: string): Promise<string>, stop(): Promise<void> }>}
 */
export async function benchPg(url) {
  let server;
  if (!url) {
    const lookup = findPgBinaries();
    if ("missing" in lookup) throw new Error(lookup.missing);
    server = await startPgServer(lookup.found);
    url = server.url;
  }
  return {
    url,
    /** A fresh, empty database on the server; its URL. */
    async database(name) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${name}"`);
      await admin.end();
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    },
    stop: async () => server?.stop(),
  };
}
