/**
 * What the PostgreSQL-only tests share: a database of the file's own with stores on it,
 * waiting for a condition, and child processes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe } from "@jest/globals";
import { pgSkipReason, type TestDatabase } from "@qntx/testing-pg";
import pg from "pg";
import { PostgresAttestationStore, type PostgresAttestationStoreOptions } from "../../src/index.js";
import { atsTestDatabase, TEST_STORE_OPTIONS } from "../conformance/postgres.js";

export { freePort } from "@qntx/testing-pg";

/** `describe`, or `describe.skip` when this run has no PostgreSQL server (the reason is printed once). */
export const describePg: typeof describe.skip = pgSkipReason() ? describe.skip : describe;

/** What {@link useAtsDatabase} gives a describe block. */
export interface AtsDatabase {
  /** The file's database, cloned from the migrated template (set once beforeAll ran). */
  readonly db: TestDatabase;
  /** A store on it with the test options, closed after the test (or, with "file", after the file, before the drop). */
  open(options?: PostgresAttestationStoreOptions, scope?: "test" | "file"): Promise<PostgresAttestationStore>;
  /** A plain connection to it for the file's checks, ended before the drop. */
  admin(): Promise<pg.Client>;
}

/** Call inside a describe: its tests get a database of their own and stores closed after each. */
export function useAtsDatabase(): AtsDatabase {
  let db: TestDatabase | undefined;
  const perTest: PostgresAttestationStore[] = [];
  const perFile: PostgresAttestationStore[] = [];
  let admin: pg.Client | undefined;
  beforeAll(async () => {
    db = await atsTestDatabase();
  });
  afterEach(async () => {
    for (const store of perTest.splice(0)) await store.close();
  });
  afterAll(async () => {
    for (const store of perFile.splice(0)) await store.close();
    await admin?.end();
    await db?.drop();
  });
  return {
    get db() {
      if (!db) throw new Error("useAtsDatabase: the database is made in beforeAll");
      return db;
    },
    async open(options = {}, scope = "test") {
      const store = await PostgresAttestationStore.open(this.db.url, { ...TEST_STORE_OPTIONS, ...options });
      (scope === "file" ? perFile : perTest).push(store);
      return store;
    },
    async admin() {
      if (!admin) {
        admin = new pg.Client({ connectionString: this.db.url });
        await admin.connect();
      }
      return admin;
    },
  };
}

/** A fixture script of test/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/**
 * Polls `predicate` until it is truthy (errors count as "not yet"); rejects after `timeoutMs`
 * naming `what`. A bound on waiting, not a timing assertion.
 */
export async function waitFor<T>(what: string, predicate: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** What a finished node process printed. */
export interface NodeRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node <fixture> ...args` to its end. */
export function runNode(script: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture(script), ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The last line of `run`'s output, parsed as JSON; throws with stderr when there is none. */
export function lastJson<T>(run: NodeRun): T {
  const line = run.stdout.trim().split("\n").pop();
  if (run.code !== 0 || !line) throw new Error(`fixture exited ${run.code}: ${run.stderr.trim() || "(no stderr)"}`);
  return JSON.parse(line) as T;
}

/** Starts `node <fixture> ...args` and resolves with the process and its first output line. */
export function startNode(script: string, args: readonly string[]): Promise<{ child: ChildProcess; line: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture(script), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d));
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => resolve({ child, line }));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${script} exited ${code} before its first line: ${stderr.trim()}`)));
  });
}

/** Kills `child` with `signal` and waits until it is gone. */
export function kill(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

