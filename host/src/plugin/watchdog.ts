/**
 * The host's watchdog: one small process per host that stops the host's plugins when the host
 * dies without stopping them (SIGKILL, the OOM killer, a crash), whether or not they watch
 * `QNTX_HOST_PID`. Without it, a plugin that does not watch (and the children of one that
 * does) lives on until the next host starts and sweeps the pid file.
 *
 * How: the watchdog is `/bin/sh` blocked reading a pipe from the host. Only the host holds the
 * pipe's write end (Node opens every descriptor close-on-exec, so plugins do not inherit it),
 * and the kernel closes it when the host ends, however it ends: the read returns end-of-file
 * and the shell `exec`s `node watchdog-sweep.js`, which sweeps this host's pid file exactly as
 * the next host would (the same identity checks: only processes that are still ours). A clean
 * stop writes `stop` first, and the watchdog exits without sweeping.
 *
 * Why this shape: Linux's PR_SET_PDEATHSIG is not reachable from Node without a native addon
 * (and would fire when the spawning *thread* exits); closing stdin only reaches plugins that
 * read it; a watchdog per plugin costs a process per plugin. A waiting `sh` costs about 1.5 MB
 * of RSS and no CPU; node (about 40 MB) runs only after the host died. It runs in its own
 * session, so a signal to the host's process group (Ctrl-C in a terminal, a closed terminal)
 * does not take it along with the host. The grace is the sweep's (SIGTERM, SIGKILL after 1 s).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { processTable } from "./process-table.js";

/** What the shell runs: wait for end-of-file (the host died) or `stop`, then sweep. */
const WAITER = 'while read -r line; do [ "$line" = stop ] && exit 0; done; exec "$@"';

/** How long after an unexpected exit of the watchdog a new one is started. */
const RESPAWN_DELAY_MS = 1000;

/** The compiled sweep program, next to this file (dist), or in dist when the host runs from its sources (tests). */
function sweepProgram(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  const candidates = [join(dirname(here), "watchdog-sweep.js"), join(dirname(here), "../../dist/plugin/watchdog-sweep.js")];
  return candidates.find((path) => existsSync(path));
}

/** Options of {@link HostWatchdog.start}. */
export interface WatchdogOptions {
  /** This host's pid file (see pid-file.ts). */
  readonly pidFile: string;
  /** SIGTERM → SIGKILL grace of the sweep. */
  readonly graceMs?: number;
  readonly logger: Logger;
}

/** A running watchdog for this host; `stop()` at a clean stop. */
export class HostWatchdog {
  private child: ChildProcess | undefined;
  private stopped = false;
  private respawnTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly program: string, private readonly options: WatchdogOptions) {}

  /**
   * Starts the watchdog. Returns undefined (after logging why) where it could do nothing: no
   * `/bin/sh` (Windows), no /proc to tell our processes from others (the sweep would kill
   * nothing), or the sweep program is missing (sources without a build).
   */
  static start(options: WatchdogOptions): HostWatchdog | undefined {
    const program = sweepProgram();
    if (process.platform === "win32" || !existsSync("/bin/sh") || processTable.kind !== "procfs" || !program) {
      options.logger.warn("no host watchdog here: plugins that do not watch QNTX_HOST_PID outlive a killed host until the next one starts");
      return undefined;
    }
    const watchdog = new HostWatchdog(program, options);
    watchdog.spawn();
    return watchdog;
  }

  /** The watchdog's pid (diagnostics, tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Lets the watchdog exit without sweeping (the host stops cleanly). Idempotent. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.respawnTimer);
    const stdin = this.child?.stdin;
    if (stdin && !stdin.destroyed) stdin.end("stop\n");
  }

  private spawn(): void {
    const { pidFile, graceMs = 1000, logger } = this.options;
    // argv[0] of the shell names it in `ps`; then the command it execs after the host died.
    const child = spawn("/bin/sh", ["-c", WAITER, "qntx-watchdog", process.execPath, this.program, pidFile, String(process.pid), String(graceMs)], {
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
    });
    this.child = child;
    // Neither the process nor its pipe may keep the host's event loop alive.
    child.unref();
    const stdin = child.stdin as (NodeJS.WritableStream & { unref?: () => void; on(event: "error", listener: (error: Error) => void): unknown }) | null;
    stdin?.unref?.();
    // Writing `stop` to a watchdog that already exited fails with EPIPE: nothing to do then.
    stdin?.on("error", () => undefined);
    child.once("error", (error) => logger.warn({ err: String(error) }, "could not start the host watchdog"));
    child.once("exit", (code, signal) => {
      if (this.stopped || this.child !== child) return;
      // Someone killed it: without it, a host killed later would leave its plugins running.
      logger.warn({ code, signal }, "the host watchdog exited; starting another");
      this.respawnTimer = setTimeout(() => {
        if (!this.stopped) this.spawn();
      }, RESPAWN_DELAY_MS);
      this.respawnTimer.unref();
    });
  }
}
