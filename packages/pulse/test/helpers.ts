import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Executor, ExecutorCall, ExecutorResult, JobStatus, Pulse, PulseJob, PulseOptions } from "../src/index.js";

/** A fresh SQLite file (WAL, as the host opens it) in its own temp dir. */
export interface TempDb {
  dir: string;
  file: string;
  db: Database.Database;
  /** Another connection to the same file (a second host). */
  open(): Database.Database;
  cleanup(): void;
}

export function tempDb(): TempDb {
  const dir = mkdtempSync(join(tmpdir(), "pulse-test-"));
  const file = join(dir, "qntx.db");
  const conns: Database.Database[] = [];
  const open = () => {
    const db = new Database(file);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    conns.push(db);
    return db;
  };
  const db = open();
  return {
    dir,
    file,
    db,
    open,
    cleanup() {
      for (const c of conns) if (c.open) c.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Resolves with the job once a 'job' event shows it matching `pred` (or it already does in the
 * store). Rejects after `ms` with the job's last known state, so a failure says where it stuck.
 */
export function waitFor(pulse: Pulse, id: string, pred: JobStatus | ((j: PulseJob) => boolean), ms = 10_000): Promise<PulseJob> {
  const match = typeof pred === "string" ? (j: PulseJob) => j.status === pred : pred;
  return new Promise<PulseJob>((resolve, reject) => {
    let last: PulseJob | undefined;
    const onJob = (j: PulseJob) => {
      if (j.id !== id) return;
      last = j;
      if (match(j)) done(j);
    };
    const timer = setTimeout(() => {
      pulse.off("job", onJob);
      reject(new Error(`job ${id} did not reach the expected state in ${ms} ms; last: ${last ? `${last.status} (${last.error})` : "no event"}`));
    }, ms);
    const done = (j: PulseJob) => {
      clearTimeout(timer);
      pulse.off("job", onJob);
      resolve(j);
    };
    pulse.on("job", onJob);
    void pulse.store.get(id).then((j) => {
      if (j && match(j)) done(j);
    });
  });
}

/** A clock the test moves by hand (`clock.t += …`). */
export function manualClock(start = Date.UTC(2026, 0, 1)): { t: number; now(): number } {
  return { t: start, now() { return this.t; } };
}

/** Options every test Pulse gets: small backoff, silent. */
export function testOptions(db: Database.Database, executor: Executor, extra: Partial<PulseOptions> = {}): PulseOptions {
  return { db, executor, backoff: { baseMs: 10, maxMs: 100 }, scheduleTickMs: 0, ...extra };
}

/** What a test executor was called with. */
export interface Call {
  job: PulseJob;
  call: ExecutorCall;
  at: number;
}

/**
 * An in-process executor driven by the job's JSON payload `{mode, ...}`:
 * ok (returns result/progress/cost/logs), fail (success:false), throw, hang (until aborted),
 * gate (until `release(id)`), failTimes (fails the first N attempts).
 */
export function scriptedExecutor() {
  const calls: Call[] = [];
  const gates = new Map<string, (r: ExecutorResult) => void>();
  const started = new Map<string, () => void>();
  /** Per-job mode overrides (win over the payload). */
  const overrides = new Map<string, string>();
  const executor: Executor = async (job, call) => {
    calls.push({ job, call, at: Date.now() });
    started.get(job.id)?.();
    const p = job.payload.length ? (JSON.parse(job.payload.toString("utf8")) as { mode?: string; n?: number }) : {};
    switch (overrides.get(job.id) ?? p.mode ?? "ok") {
      case "fail":
        return { success: false, error: `boom #${call.attempt}`, logEntries: [{ timestamp: new Date().toISOString(), level: "error", message: `attempt ${call.attempt}`, stage: "run", metadata: "{}" }] };
      case "throw":
        throw new Error(`thrown #${call.attempt}`);
      case "failTimes":
        if (call.attempt <= (p.n ?? 1)) return { success: false, error: `transient #${call.attempt}` };
        return { success: true, result: Buffer.from("recovered") };
      case "hang":
        // Ends only when its signal aborts, as the host's gRPC call does when cancelled.
        return new Promise<ExecutorResult>((_resolve, reject) => {
          call.signal.addEventListener("abort", () => reject(call.signal.reason), { once: true });
        });
      case "gate":
        return new Promise<ExecutorResult>((resolve) => gates.set(job.id, resolve));
      default:
        return {
          success: true,
          error: "",
          result: Buffer.from(JSON.stringify({ echo: job.id })),
          progressCurrent: 10,
          progressTotal: 10,
          costActual: 0.25,
          logEntries: [{ timestamp: "2026-11-24T10:00:00Z", level: "info", message: "did it", stage: "main", metadata: '{"k":1}' }],
          pluginVersion: "1.2.3",
        };
    }
  };
  return {
    executor,
    calls,
    overrides,
    callsFor: (id: string) => calls.filter((c) => c.job.id === id),
    release(id: string, r: ExecutorResult = { success: true }) {
      const g = gates.get(id);
      if (!g) throw new Error(`job ${id} is not waiting at its gate`);
      gates.delete(id);
      g(r);
    },
    /** Resolves with the n-th call (1-based) of the executor for `id`, at once when it already happened. */
    whenCalled(id: string, n = 1): Promise<Call> {
      return new Promise((resolve) => {
        const check = () => {
          const mine = calls.filter((c) => c.job.id === id);
          if (mine.length >= n) {
            started.delete(id);
            resolve(mine[n - 1]!);
          } else started.set(id, check);
        };
        check();
      });
    },
  };
}

/** A JSON payload for scriptedExecutor. */
export function mode(m: string, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ mode: m, ...extra }));
}
