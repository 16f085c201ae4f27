/**
 * Starting the fake-plugin fixture (`test/fixtures/fake-plugin.mjs`) directly, without the
 * host: for tests of the fixture itself and of pieces that take a port or an address.
 * Every process started here is remembered; call {@link killFakePlugins} in `afterEach`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { EventEmitter } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parsePortLine } from "@qntx/protocol";
import { freePort } from "./ports.js";

/** Absolute path of the fixture; run it with `process.execPath`. */
export const FAKE_PLUGIN: string = fileURLToPath(new URL("../fixtures/fake-plugin.mjs", import.meta.url));

/** Scenario names the fixture understands (see the JSDoc at the top of the fixture). */
export type FakeScenario =
  | "ok"
  | "wrong-name"
  | "never-announces"
  | "exits-early"
  | "never-answers"
  | "crash-after-ready"
  | "hangs-initialize"
  | "ignores-shutdown"
  | "full-path-only"
  | "chatty";

/** Options of {@link launchFakePlugin} and {@link spawnFakePlugin}. */
export interface FakePluginOptions {
  /** `--port`; default: a free ephemeral port. */
  readonly port?: number;
  /** `--name` (default "fake" in the fixture). */
  readonly name?: string;
  /** `--version` (default "1.0.0" in the fixture). */
  readonly version?: string;
  /** `--qntx-version` (default ">=0.1.0" in the fixture). */
  readonly qntxVersion?: string;
  /** Extra arguments after the fixture's own. */
  readonly args?: readonly string[];
  /** Extra environment (added to this process's). */
  readonly env?: Readonly<Record<string, string>>;
  /** How long {@link spawnFakePlugin} waits for the port line (default 10 000 ms). */
  readonly timeoutMs?: number;
}

/** A running fixture process and what it printed so far. */
export interface FakeProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** The `--port` it was given. */
  readonly requestedPort: number;
  /** Stdout lines so far (the port line included). */
  readonly stdout: string[];
  /** Stderr lines so far. */
  readonly stderr: string[];
  /** Emits `"stdout"` and `"stderr"` with each line as it arrives. */
  readonly lines: EventEmitter;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A fixture process that has announced its port. */
export interface FakePlugin extends FakeProcess {
  /** The port from `QNTX_PLUGIN_PORT=`. */
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly address: string;
}

const running = new Set<ChildProcessWithoutNullStreams>();

/** The command-line arguments for the fixture (after the script path). */
export function fakePluginArgs(scenario: FakeScenario, port: number, options: FakePluginOptions = {}): string[] {
  const args = ["--port", String(port), "--scenario", scenario];
  if (options.name !== undefined) args.push("--name", options.name);
  if (options.version !== undefined) args.push("--version", options.version);
  if (options.qntxVersion !== undefined) args.push("--qntx-version", options.qntxVersion);
  return [...args, ...(options.args ?? [])];
}

/** Starts the fixture and returns at once, without waiting for the port line. */
export async function launchFakePlugin(scenario: FakeScenario, options: FakePluginOptions = {}): Promise<FakeProcess> {
  const requestedPort = options.port ?? (await freePort());
  const child = spawn(process.execPath, [FAKE_PLUGIN, ...fakePluginArgs(scenario, requestedPort, options)], {
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const lines = new EventEmitter();
  createInterface({ input: child.stdout }).on("line", (line) => {
    stdout.push(line);
    lines.emit("stdout", line);
  });
  createInterface({ input: child.stderr }).on("line", (line) => {
    stderr.push(line);
    lines.emit("stderr", line);
  });
  return { child, requestedPort, stdout, stderr, lines, exited };
}

/**
 * Starts the fixture on a free port and resolves once it printed its port line. Rejects
 * (and kills it) when it exits first or does not announce within `timeoutMs`.
 */
export async function spawnFakePlugin(scenario: FakeScenario, options: FakePluginOptions = {}): Promise<FakePlugin> {
  const proc = await launchFakePlugin(scenario, options);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`fake plugin (${scenario}) printed no port line within ${timeoutMs} ms`)), timeoutMs);
    const onLine = (line: string): void => {
      const found = parsePortLine(line);
      if (found !== undefined) finish(undefined, found);
    };
    const onExit = (code: number | null): void =>
      finish(new Error(`fake plugin (${scenario}) exited with ${code} before its port line; stderr: ${proc.stderr.join("\n")}`));
    const finish = (error: Error | undefined, found?: number): void => {
      clearTimeout(timer);
      proc.lines.off("stdout", onLine);
      proc.child.off("exit", onExit);
      if (error) {
        proc.child.kill("SIGKILL");
        reject(error);
      } else resolve(found!);
    };
    proc.lines.on("stdout", onLine);
    proc.child.once("exit", onExit);
    for (const line of proc.stdout) onLine(line);
  });
  return { ...proc, port, address: `127.0.0.1:${port}` };
}

/** Kills every fixture process still running (SIGKILL) and waits until they have exited. */
export async function killFakePlugins(): Promise<void> {
  const children = [...running];
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
    ),
  );
  running.clear();
}
