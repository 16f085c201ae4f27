/**
 * A spawned plugin process: started in its own process group (so stopping it also stops
 * its children), its stdout read for the `QNTX_PLUGIN_PORT=` line and then, like stderr,
 * logged line by line under the plugin's name (rate-limited, so a flooding plugin cannot
 * drown the host's log) and handed to the plugin's output sink (ring buffer and log file,
 * see host/src/logs). Both pipes are always drained. Its exit is seen at once from the
 * process exit event, not from health polling.
 */
import { EventEmitter } from "node:events";
import { execa, type ResultPromise } from "execa";
import type { Logger } from "pino";
import { QntxError, parseCertLine, parsePortLine, parseSocketLine } from "@qntx/protocol";
import { readLines } from "./line-reader.js";
import type { ResolvedCommand } from "./resolve-binary.js";
import { PluginLineLogger, parsePluginLine } from "./plugin-log.js";
import { terminateGroup } from "./os-process.js";
import { processTable } from "./process-table.js";

/** How a process ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What `PluginProcess.spawn` needs. */
export interface SpawnSpec {
  readonly name: string;
  readonly command: ResolvedCommand;
  /** The port passed as `--port`; assumed when no port line arrives in time. */
  readonly port: number;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | undefined;
  readonly portLineTimeoutMs: number;
  readonly logger: Logger;
  /** Where every output line goes besides the (rate-limited) logger: the plugin's ring and log file. */
  readonly output?: PluginOutputSink;
}

/** Receives everything a plugin process prints. Calls are synchronous and must not block. */
export interface PluginOutputSink {
  /** A process of the plugin was spawned. */
  started(pid: number): void;
  /** One line (newline removed, capped), with its level ("info"/"warn" by stream unless a JSON line says otherwise). */
  line(stream: "stdout" | "stderr", level: string, line: string): void;
  /** Process `pid` exited (`how`: "exit code 1", "killed by SIGKILL") and its pipes are closed. */
  exited(pid: number, how: string): void;
}

/** Lines of output kept for error messages. */
const RECENT_LINES = 20;

/**
 * A plugin's own hint: a stderr line `hint: <text>` or `<program>: hint: <text>` (the form a
 * command-line tool prints its advice in). When the plugin fails to start, the last such line
 * becomes the error's hint (shown by `/api/plugins` and `qntx plugin list`), instead of the
 * host's generic "run it by hand": only the plugin knows that, say, a package is missing.
 */
const HINT_LINE = /^(?:[\w.@/+-]{1,64}: )?hint: *(\S.*)$/;
/** A hint longer than this is cut: it is one line of advice, not a log. */
const MAX_HINT_CHARS = 1000;

/**
 * How long after its exit a process's output may still be read before `exited` resolves.
 * The exit can be seen before the last lines were read: libuv reaps every exited child when it
 * handles any SIGCHLD, after the other I/O of that loop turn, so a plugin that printed and
 * exited during that turn is reaped before its pipe is read (CI once lost a plugin's final
 * stderr line from its error). The pipes' close normally follows within a loop turn, but a
 * child the plugin left behind can hold them open, so the wait is capped.
 */
const OUTPUT_DRAIN_MS = 500;

/**
 * Events: `exit` (ExitInfo) once, when the process ends for whatever reason and its output
 * has been read (see `exited`).
 */
export class PluginProcess extends EventEmitter {
  readonly pid: number;
  /**
   * Resolves when the process has exited and what it printed has been read (at most
   * OUTPUT_DRAIN_MS after the exit), so `tail()` then holds its last lines.
   */
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  /** What the plugin announced besides its port: a certificate line before it, or a socket line instead (spawn-transport.ts). */
  readonly announced: { cert: Buffer | undefined; socket: string | undefined } = { cert: undefined, socket: undefined };
  private readonly recent: string[] = [];
  private lastHint: string | undefined;

  private constructor(private readonly child: ResultPromise, private readonly spec: SpawnSpec) {
    super();
    this.pid = child.pid ?? -1;
    // "close" comes once the process exited and both pipes ended (all output read).
    const outputClosed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    this.exited = new Promise<ExitInfo>((resolve) => {
      const ended = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.exitInfo) return;
        const exit: ExitInfo = { code, signal };
        this.exitInfo = exit;
        let drainTimer: NodeJS.Timeout | undefined;
        const drainCap = new Promise<void>((done) => {
          drainTimer = setTimeout(done, OUTPUT_DRAIN_MS);
        });
        void Promise.race([outputClosed, drainCap]).then(() => {
          clearTimeout(drainTimer);
          resolve(exit);
          this.emit("exit", exit);
        });
      };
      child.once("exit", ended);
      // A spawn that fails (ENOENT, EACCES, a bad shebang) emits "error" and never "exit".
      child.once("error", () => {
        if (child.pid === undefined) ended(null, null);
      });
    });
    // execa's promise rejects on spawn errors even with reject:false in some cases; the
    // exit/error events carry what we need, so only keep it from being unhandled.
    child.catch(() => undefined);
  }

  /**
   * Spawns the plugin with `--port <port>` and waits for its port line.
   * Resolves with the port it announced, or the one passed when no line came within
   * `portLineTimeoutMs` (QNTX's rule). Rejects with EXITED_BEFORE_PORT when it exits first.
   */
  static async spawn(spec: SpawnSpec): Promise<{ process: PluginProcess; port: number; announced: boolean; latePort: Promise<number> }> {
    // execa (the project's process library). Profiled during a 20-plugin mass start its wrapper
    // costs about 13 ms of event loop per spawn over bare child_process (bench/notes/04-start20-event-loop.md); loading
    // it is about 2.7 MB of the idle host's heap (bench/investigations/host-memory.mjs).
    // Detached: the plugin leads its own process group, so a stop reaches its children too.
    const child = execa(spec.command.command, [...spec.command.args, "--port", String(spec.port), ...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      extendEnv: true,
      detached: true,
      cleanup: false,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      buffer: false,
      reject: false,
    });
    if (child.pid === undefined) {
      // The process never started. Some failures (ENOENT, EACCES) also come as an "error" event,
      // others (ENOTDIR: the working directory is a file) only as execa's failed result; either
      // way say so now instead of waiting out the port-line and Metadata timeouts.
      const result = await child.catch((error: unknown) => error as { code?: string; originalMessage?: string; message?: string });
      const reason = result.originalMessage || result.message || `spawn failed${result.code ? ` (${result.code})` : ""}`;
      throw new QntxError("BINARY_NOT_FOUND", `cannot start plugin ${spec.name} (${spec.command.path}): ${reason}${result.code && !reason.includes(result.code) ? ` (${result.code})` : ""}`, { cause: result });
    }
    // A pipe that fails must not take the host down (an unhandled stream error would); the
    // process's exit is still seen from its own events.
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.on("error", (error) => spec.logger.warn({ err: String(error) }, "error reading plugin output"));
    }
    const proc = new PluginProcess(child, spec);
    const output = spec.output;
    const pinoLines = new PluginLineLogger(spec.logger);
    if (output && child.pid !== undefined) output.started(child.pid);
    const onLine = (stream: "stdout" | "stderr", line: string): void => {
      try {
        proc.remember(line);
        if (stream === "stderr") proc.noteHint(line);
        const parsed = parsePluginLine(line, stream === "stdout" ? "info" : "warn");
        pinoLines.log(parsed);
        output?.line(stream, parsed.level, line);
      } catch (error) {
        // A failing sink must never stop the pipe from being drained.
        spec.logger.error({ err: String(error) }, "could not record a line of plugin output");
      }
    };
    // "close" comes after both pipes ended, so the marker follows the run's last line (a
    // restart may have begun by then: the marker names the pid).
    child.once("close", () => {
      pinoLines.flush();
      if (output && proc.exitInfo) output.exited(proc.pid, describeExit(proc.exitInfo));
    });
    const spawnError = new Promise<never>((_, reject) => {
      child.once("error", (error: Error) => reject(new QntxError("BINARY_NOT_FOUND", `cannot start plugin ${spec.name} (${spec.command.path}): ${error.message}`, { cause: error })));
    });
    const portLine = new Promise<number>((resolve) => {
      let found = false;
      readLines(child.stdout!, (line) => {
        // Transport lines (not logged: the certificate is protocol, not output): a certificate
        // comes before the port line; a socket line takes its place, and the port is then unused.
        const cert = found ? undefined : parseCertLine(line);
        if (cert) {
          proc.announced.cert = cert;
          return;
        }
        const socket = found ? undefined : parseSocketLine(line);
        if (socket !== undefined) proc.announced.socket = socket;
        const port = found ? undefined : socket !== undefined ? spec.port : parsePortLine(line);
        if (port !== undefined) {
          found = true;
          resolve(port);
        } else {
          onLine("stdout", line);
        }
      });
      readLines(child.stderr!, (line) => onLine("stderr", line));
    });

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), spec.portLineTimeoutMs);
    });
    const exitedEarly = proc.exited.then((exit) => {
      throw new QntxError("EXITED_BEFORE_PORT", `plugin ${spec.name} exited before announcing its port (${describeExit(exit)})${proc.tail()}`, {
        // The config's args stay out: readers without the admin token see the hint whole, and
        // args can carry secrets.
        hint: proc.hint ?? `run it by hand to see why: ${[spec.command.command, ...spec.command.args, "--port", String(spec.port)].join(" ")}${spec.args.length ? " and the args of its config entry" : ""}`,
      });
    });
    try {
      const port = await Promise.race([portLine, timeout, exitedEarly, spawnError]);
      if (port === undefined) {
        spec.logger.warn({ port: spec.port }, `no ${"QNTX_PLUGIN_PORT="} line within ${spec.portLineTimeoutMs} ms; assuming the port passed`);
        // The line may still come (a slow start): the caller can switch to it then.
        return { process: proc, port: spec.port, announced: false, latePort: portLine };
      }
      return { process: proc, port, announced: true, latePort: portLine };
    } catch (error) {
      await proc.stop(1000);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether the process has exited. */
  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** The plugin's own advice: its last stderr line `hint: …` (see HINT_LINE), if it printed one. */
  get hint(): string | undefined {
    return this.lastHint;
  }

  /** The last lines the plugin printed, formatted for an error message ("" when none). */
  tail(): string {
    return this.recent.length === 0 ? "" : `; last output:\n  ${this.recent.join("\n  ")}`;
  }

  /**
   * Stops the process group: SIGTERM, then SIGKILL when it has not exited after `graceMs` —
   * or at once when the process is stopped (SIGSTOP, a debugger): it cannot act on SIGTERM
   * until continued, so waiting out the grace would only delay the SIGKILL.
   * Idempotent; resolves once the process has exited.
   */
  async stop(graceMs: number): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    if (this.pid <= 0) return this.exited;
    this.signalGroup("SIGTERM");
    if (processTable.isStopped(this.pid)) this.signalGroup("SIGKILL");
    const timer = setTimeout(() => this.signalGroup("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops what is left of the process group after the plugin itself exited: children it
   * started (a shell's `sleep`, a worker) would otherwise outlive it. SIGTERM, then SIGKILL
   * after `graceMs` if any member is still there.
   */
  async reapGroup(graceMs: number): Promise<void> {
    if (this.pid > 0) await terminateGroup(this.pid, graceMs);
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.exitInfo || this.pid <= 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      try {
        this.child.kill(signal);
      } catch {
        // Already gone.
      }
    }
    this.spec.logger.debug({ signal }, "signalled plugin process group");
  }

  private noteHint(line: string): void {
    const match = HINT_LINE.exec(line);
    if (match) this.lastHint = match[1]!.trimEnd().slice(0, MAX_HINT_CHARS);
  }

  private remember(line: string): void {
    this.recent.push(line);
    if (this.recent.length > RECENT_LINES) this.recent.shift();
  }
}

/** See os-process.ts (kept exported here for the callers that import it from this module). */
export { terminateGroup };

/** "exit code 3" / "killed by SIGKILL". */
export function describeExit(exit: ExitInfo): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}
