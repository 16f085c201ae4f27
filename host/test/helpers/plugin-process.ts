/**
 * Runs a plugin process the way a person runs a remote plugin (the host dials it), and waits
 * for its announcement: the port line, or the socket line of a plugin told to use a socket.
 */
import { execa, type ResultPromise } from "execa";
import { pino } from "pino";
import type { SpawnSpec } from "../../src/plugin/process.js";

/** A plugin process started by a test. */
export interface RunningPlugin {
  readonly process: ResultPromise;
  /** Port of its port line (0 when it announced a socket). */
  readonly port: number;
  /** Everything it printed so far. */
  output(): string;
  kill(): void;
}

/** Starts `node <file> --port 0 ...args` with `env` added, and waits for its port or socket line. */
export async function runPlugin(file: string, args: string[], env: Record<string, string> = {}): Promise<RunningPlugin> {
  const child = execa(process.execPath, [file, "--port", "0", ...args], { env, buffer: false, reject: false });
  let output = "";
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /QNTX_PLUGIN_PORT=(\d+)|QNTX_PLUGIN_SOCKET=/.exec(output);
      if (match) resolve(Number(match[1] ?? 0));
    });
    child.once("exit", (code) => reject(new Error(`${file} exited early (${code}): ${output}`)));
  });
  return { process: child, port, output: () => output, kill: () => void child.kill("SIGKILL") };
}

/** What PluginProcess.spawn needs to run `node -e <script>` as plugin `name` (port 1, no args). */
export function inlineScriptSpec(name: string, script: string): SpawnSpec {
  return {
    name,
    command: { command: process.execPath, args: ["-e", script, "--"], path: "<inline script>" },
    port: 1,
    args: [],
    env: {},
    cwd: undefined,
    portLineTimeoutMs: 10_000,
    logger: pino({ level: "silent" }),
  };
}
