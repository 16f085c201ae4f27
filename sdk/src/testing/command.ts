/**
 * `TestPlugin.commands` / `TestPlugin.command`: the plugin's CLI commands through the
 * `Commands` and `ExecuteCommand` RPCs, as `qntx <plugin> <command> [args] [--flags]` runs them.
 */
import type { CommandInfo, ExecuteCommandRequest } from "@qntx/protocol";
import type { TestPluginCalls } from "./plugin-client.js";

/** Flag values a test may give; each is sent as text (`true` for a switch that is on). */
export type CommandFlagInput = Record<string, string | number | boolean | undefined>;

/** Options of {@link TestPlugin.command}. */
export interface CommandOptions {
  /** Standard input (sent only to commands that read it, as the CLI does; here always sent). */
  stdin?: string | Uint8Array;
  /** Environment the command sees. */
  env?: Record<string, string>;
  /** The caller's working directory. Default: this process's. */
  cwd?: string;
  /** Deadline of the call. Default: the handle's `timeoutMs`. */
  timeoutMs?: number;
}

/** What a command answered. */
export interface CommandRun {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  /** stdout as UTF-8 text. */
  text(): string;
  /** stderr as UTF-8 text. */
  errorText(): string;
}

/** The commands the plugin announces (empty when it has none: UNIMPLEMENTED reads as none, as the host treats it). */
export async function listCommands(client: TestPluginCalls, timeoutMs: number): Promise<CommandInfo[]> {
  try {
    return (await client.call("Commands", timeoutMs, (plugin, options) => plugin.commands(options))).commands;
  } catch (err) {
    if ((err as { grpcCode?: number }).grpcCode === 12) return [];
    throw err;
  }
}

/** Runs command `name` with `args` and `flags`. */
export async function runCommand(client: TestPluginCalls, name: string, args: readonly string[], flags: CommandFlagInput, options: CommandOptions, defaultTimeoutMs: number): Promise<CommandRun> {
  if (typeof name !== "string" || name === "") throw new TypeError("command: name must be a non-empty string");
  const wireFlags: Record<string, string> = {};
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) wireFlags[key] = String(value);
  const request: ExecuteCommandRequest = {
    command: name,
    args: args.map(String),
    flags: wireFlags,
    stdin: options.stdin === undefined ? Buffer.alloc(0) : Buffer.from(options.stdin),
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
  };
  const response = await client.call(`ExecuteCommand ${name}`, options.timeoutMs ?? defaultTimeoutMs, (plugin, callOptions) => plugin.executeCommand(request, callOptions));
  const stdout = Buffer.from(response.stdout);
  const stderr = Buffer.from(response.stderr);
  return { exitCode: response.exitCode, stdout, stderr, text: () => stdout.toString("utf8"), errorText: () => stderr.toString("utf8") };
}
