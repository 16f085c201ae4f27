/** Helpers shared by the CLI's commands: host location from global flags, and error output. */
import type { Command } from "commander";
import { QntxError } from "@qntx/protocol";
import { loadConfig } from "../config/index.js";
import { defaultDataDir } from "../config/paths.js";
import type { HostLocation } from "./client.js";

/** Global options every command accepts. */
export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  host?: string;
}

/**
 * Where the running host is: `--host`, else host.json in the data dir — taken from
 * `--data-dir`, else from the config file's `[host] data_dir`, else `$QNTX_HOME` or ~/.qntx.
 */
export function clientLocation(command: Command): HostLocation {
  return locationOf(command.optsWithGlobals<GlobalOptions>());
}

/** {@link clientLocation} from options already read (plugin commands read them before commander). */
export function locationOf(options: GlobalOptions): HostLocation {
  if (options.dataDir) return { dataDir: options.dataDir, url: options.host };
  try {
    return { dataDir: loadConfig({ configPath: options.config }).host.dataDir, url: options.host };
  } catch {
    return { dataDir: defaultDataDir(), url: options.host };
  }
}

/** Wraps a command action: a QntxError prints its message and hint and exits 1, no stack trace. */
export function runAction<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      printError(error);
      process.exitCode = 1;
    }
  };
}

/**
 * Prints an error for a person on stderr: the message, then the hint. Every error of the
 * catalogue (a QntxError, or an error answer of the host read back into one) has a hint.
 */
export function printError(error: unknown): void {
  if (error instanceof QntxError) printProblem(error.message, error.hint);
  else printProblem(error instanceof Error ? error.message : String(error));
}

/** Prints `error: <message>` and, when there is one, `  hint: <hint>` on stderr. */
export function printProblem(message: string, hint?: string): void {
  process.stderr.write(`error: ${message}\n${hint ? `  hint: ${hint}\n` : ""}`);
}
