/**
 * A plugin under test run as a process, under the process contract (docs/protocol.md §2): spawned
 * with `--port N` in its own process group, its port read from the `QNTX_PLUGIN_PORT=` line,
 * stderr kept for error messages, the whole group killed on stop. A process that exits before
 * the line, or never prints it, fails the start with its exit code and last stderr lines.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { resolve as resolvePath } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { parsePortLine, PORT_LINE_PREFIX } from "@qntx/protocol";
import { outputTail, TestPluginError } from "./errors.js";
import { createLifeline, type Lifeline } from "./plugin-client.js";

/** How a plugin process is run. */
export interface ProcessOptions {
  /** Arguments after `--port N`. */
  args?: readonly string[];
  /** Environment added to this process's own. */
  env?: Record<string, string>;
  /** Working directory. Default: this process's. */
  cwd?: string;
  /**
   * What runs the file: e.g. `["python3"]` for `plugin.py`. Default: node for `.js`/`.mjs`/`.cjs`,
   * node with tsx for `.ts`/`.mts`/`.cts`, the file itself otherwise (it must be executable).
   */
  command?: readonly string[];
  /** Copy the plugin's stderr to this process's stderr as it comes. Default false (kept for errors). */
  inheritStderr?: boolean;
  /** Deadline for the port line. Default 10 000 ms. */
  startTimeoutMs?: number;
}

/** A running plugin process. */
export interface PluginProcess {
  readonly pid: number;
  readonly port: number;
  /** The process's life, for calls to race against. */
  readonly lifeline: Lifeline;
  /** Everything it printed on stderr so far. */
  stderr(): string;
  /** Stdout lines other than the port line. */
  stdout(): string;
  /** Resolves once the process has exited (at once when it already has). */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the process has exited. */
  kill(graceMs: number): Promise<void>;
}

/** Lines of stderr quoted in errors. */
const TAIL_LINES = 20;
const DEFAULT_START_TIMEOUT_MS = 10_000;

/** A loopback port free right now (the plugin probes upward if it is taken by then). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function commandFor(path: string, command: readonly string[] | undefined): string[] {
  if (command) return [...command, path];
  if (/\.(m|c)?js$/.test(path)) return [process.execPath, path];
  if (/\.(m|c)?ts$/.test(path)) {
    // tsx is a dependency of the SDK: resolve its loader from here, not from the plugin's folder.
    const loader = createRequire(import.meta.url).resolve("tsx");
    return [process.execPath, "--import", pathToFileURL(loader).href, path];
  }
  return [path];
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

/** Resolves when `stream` has ended. */
function ended(stream: NodeJS.ReadableStream & { readableEnded?: boolean }): Promise<void> {
  return new Promise((resolve) => (stream.readableEnded ? resolve() : stream.once("end", () => resolve())));
}

/** Sends `signal` to the process group of `child` (falls back to the child alone). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

/** Spawns the plugin at `file` and resolves once it has announced its port. */
export async function spawnPluginProcess(file: string, options: ProcessOptions): Promise<PluginProcess> {
  const path = resolvePath(options.cwd ?? process.cwd(), file);
  if (!options.command && !existsSync(path)) {
    throw new TestPluginError("SPAWN_FAILED", `plugin file ${path} does not exist (build the plugin first?)`);
  }
  const argv = commandFor(path, options.command);
  const requested = await freePort();
  const args = [...argv.slice(1), "--port", String(requested), ...(options.args ?? [])];
  const commandLine = [argv[0], ...args].join(" ");
  const child = spawn(argv[0]!, args, {
    cwd: options.cwd,
    // QNTX_HOST_PID: the SDK's plugins stop by themselves when this process dies, so a killed
    // test run leaves no plugin behind.
    env: { ...process.env, QNTX_HOST_PID: String(process.pid), ...options.env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });

  let stderrText = "";
  let stdoutText = "";
  const tail: string[] = [];
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const exitedPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
    child.once("error", (err) => {
      spawnError = err;
      if (child.pid === undefined) {
        exit = { code: null, signal: null };
        resolve(exit);
      }
    });
  });
  // Both pipes are always drained: a plugin blocked on a full pipe would look hung.
  createInterface({ input: child.stderr! }).on("line", (line) => {
    stderrText += `${line}\n`;
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    if (options.inheritStderr) process.stderr.write(`${line}\n`);
  });
  const portLine = new Promise<number>((resolve) => {
    let found = false;
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const port = found ? undefined : parsePortLine(line);
      if (port !== undefined) {
        found = true;
        resolve(port);
      } else {
        stdoutText += `${line}\n`;
      }
    });
  });

  const { lifeline, markGone } = createLifeline(() => (exit ? describeExit(exit.code, exit.signal) : "still running") + outputTail(tail));
  // Calls learn of the exit only once the last stderr lines are in: they quote them. Bounded,
  // as a grandchild holding the pipe open must not delay it.
  void exitedPromise.then(() => Promise.race([ended(child.stderr!), new Promise((resolve) => setTimeout(resolve, 500).unref())])).then(markGone);
  const kill = async (graceMs: number): Promise<void> => {
    if (!exit) {
      signalGroup(child, "SIGTERM");
      const timer = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs);
      await exitedPromise;
      clearTimeout(timer);
    }
    // Children the plugin started may outlive it in its group: end them too.
    signalGroup(child, "SIGKILL");
  };

  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    portLine.then((port) => ({ kind: "port" as const, port })),
    exitedPromise.then(() => ({ kind: "exit" as const })),
    new Promise<{ kind: "timeout" }>((resolve) => (timer = setTimeout(() => resolve({ kind: "timeout" }), timeoutMs))),
  ]);
  clearTimeout(timer);

  if (outcome.kind === "port") {
    return {
      pid: child.pid!,
      port: outcome.port,
      lifeline,
      stderr: () => stderrText,
      stdout: () => stdoutText,
      exited: () => exitedPromise,
      kill,
    };
  }
  if (outcome.kind === "exit") {
    if (spawnError && child.pid === undefined) {
      throw new TestPluginError("SPAWN_FAILED", `cannot start ${commandLine}: ${spawnError.message}`, { cause: spawnError });
    }
    // Let the pipes deliver the last lines the process wrote before it died (bounded: a child
    // it started may hold them open).
    await Promise.race([Promise.all([ended(child.stderr!), ended(child.stdout!)]), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    const announced = await Promise.race([portLine, Promise.resolve(undefined)]);
    const what = announced === undefined ? `before printing ${PORT_LINE_PREFIX}<port>` : `right after announcing port ${announced}`;
    // The plugin is gone, but a child it started would outlive the failed start.
    signalGroup(child, "SIGKILL");
    throw new TestPluginError("EXITED_BEFORE_PORT", `plugin process exited ${what} (${describeExit(exit!.code, exit!.signal)}): ${commandLine}${outputTail(tail)}`);
  }
  await kill(1_000);
  throw new TestPluginError(
    "NO_PORT_LINE",
    `plugin process printed no ${PORT_LINE_PREFIX}<port> line on stdout within ${timeoutMs} ms (killed it): ${commandLine}${outputTail(tail)}${outputTail(stdoutText.split("\n").filter(Boolean).slice(-TAIL_LINES), "its stdout")}`,
  );
}
