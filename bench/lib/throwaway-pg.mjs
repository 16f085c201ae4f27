/**
 * A PostgreSQL server for a bench tool: the URL given, or a throwaway one started with
 * @qntx/testing-pg (initdb in a temp dir, 127.0.0.1, fsync off), stopped by `stop()`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { findPgBinaries, startPgServer } from "@qntx/testing-pg";
import pg from "pg";

/** utime, stime, cutime, cstime and ppid of `pid` from /proc (ticks of 10 ms). */
function stat(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return { ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
}

/**
 * CPU ms the server has used so far: the postmaster with its reaped children, plus every live
 * backend (Linux).
 */
function serverCpuMs(postmaster) {
  const root = stat(postmaster);
  let ticks = root.own + root.children;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = stat(Number(name));
      if (s.ppid === postmaster) ticks += s.own;
    } catch {
      // exited meanwhile: its time is in the postmaster's children now
    }
  }
  return ticks * 10;
}

/**
 * @param {string | undefined} url a server's maintenance-database URL, or undefined to start one
 * @returns {Promise<{ url: string, database(name: string): Promise<string>, cpuMs(): number | undefined, stop(): Promise<void> }>}
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
    /** The server's CPU ms so far, when this process started it (else undefined). */
    cpuMs: () => (server ? serverCpuMs(Number(readFileSync(join(server.dir, "data", "postmaster.pid"), "utf8").split("\n")[0])) : undefined),
    stop: async () => server?.stop(),
  };
}
