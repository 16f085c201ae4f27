/** What the PostgreSQL-only tests share: waiting for a condition, and child processes. */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

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

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
