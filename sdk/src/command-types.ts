/**
 * Types of the CLI commands a plugin contributes (`definePlugin({ commands })`), apart from
 * types.ts so each file stays small; types.ts re-exports them.
 */
import type { Logger } from "./log.js";
import type { HostServices } from "./types.js";

/** Type of a command flag: a switch (`--shout`), or one that takes a value (`--times 3`). */
export type CommandFlagType = "boolean" | "string" | "number";

/** One flag of a command, `--<key>` (and `-<short>` when set). */
export interface CommandFlagDef {
  /** Default "boolean": a switch without a value (`--shout`, or `--shout=false`). */
  type?: CommandFlagType;
  description?: string;
  /** What `run` gets when the flag is not given (booleans default to false). */
  default?: string | number | boolean;
  /** One-letter alias (`-s`). `h` is reserved for help. */
  short?: string;
}

/** Values of a command's flags as `run` receives them: declared defaults filled in. */
export type CommandFlags = Record<string, string | number | boolean | undefined>;

/** Where a command writes: bytes or UTF-8 text, collected and sent back when it finishes. */
export interface CommandOutput {
  /** Appends to the stream. Returns false once the stream reached its size limit (the rest is dropped). */
  write(chunk: string | Uint8Array): boolean;
}

/** What a command's `run` receives besides its arguments and flags. */
export interface CommandContext extends HostServices {
  /** Name of the command running. */
  command: string;
  /** The command's standard output, returned to the caller byte for byte. */
  stdout: CommandOutput;
  /** The command's standard error. */
  stderr: CommandOutput;
  /** Standard input the caller sent; empty unless the command declares `readsStdin`. */
  stdin: Buffer;
  /** Environment variables the caller chose to send (usually none). */
  env: Record<string, string>;
  /** The caller's working directory, for resolving relative paths ("" when unknown). */
  cwd: string;
  /** Plugin configuration of the latest successful `Initialize` (schema defaults filled in). */
  config: Record<string, string>;
  /**
   * Aborts when the caller gives up (the host's deadline passed or the CLI was interrupted).
   * Once it aborts the answer is gone: what the command returns afterwards is ignored.
   */
  signal: AbortSignal;
  /** The plugin's own logger (stderr of the plugin process, not the command's stderr). */
  log: Logger;
}

/** What a command may return: an exit code, stdout text or bytes, or all three. */
export type CommandResult =
  | void
  | undefined
  | number
  | string
  | Uint8Array
  | { stdout?: string | Uint8Array; stderr?: string | Uint8Array; exitCode?: number };

/** A command the plugin contributes: `qntx <plugin> <name> [args] [--flags]`. */
export interface CommandDef {
  /** One line, shown by `qntx <plugin> --help` and `qntx --help`. */
  description?: string;
  /** Synopsis after the command name, e.g. `"<name> [--shout]"`. */
  usage?: string;
  /** Declared flags by name (no dashes). Undeclared flags are refused with exit code 2. */
  flags?: Record<string, CommandFlagDef>;
  /** The command reads standard input: only then does the CLI send it. */
  readsStdin?: boolean;
  /**
   * Runs the command. Write to `ctx.stdout`/`ctx.stderr`, or return an exit code, a string
   * (stdout), or `{ stdout, stderr, exitCode }`. A throw exits 1 with the message on stderr
   * (a thrown `CommandError` exits with its own code).
   */
  run(args: string[], flags: CommandFlags, ctx: CommandContext): CommandResult | Promise<CommandResult>;
}
