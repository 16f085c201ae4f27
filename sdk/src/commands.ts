/**
 * Plugin CLI commands (`qntx <plugin> <command> [args] [--flags]`): validation of the
 * `commands` a plugin defines, the `Commands` answer, and `ExecuteCommand`, which runs one
 * and returns what it wrote, byte for byte, with its exit code. A command's own failures
 * (a throw, an unknown command or flag) travel in the answer as an exit code and stderr,
 * never as a gRPC error, as job failures do.
 */
import { ExecuteCommandResponse, type CommandInfo, type CommandsResponse, type ExecuteCommandRequest } from "@qntx/protocol";
import type { PluginDefinition } from "./define.js";
import type { PluginRuntime } from "./runtime.js";
import type { CommandContext, CommandDef, CommandFlagDef, CommandFlagType, CommandFlags, CommandOutput, CommandResult } from "./types.js";

/**
 * Bytes kept per stream (stdout, stderr). Both together stay well under gRPC's default 4 MiB
 * message limit, so any caller (not only our host, which allows 16 MiB) can take the answer.
 * A command with more to say belongs behind an HTTP route.
 */
export const MAX_COMMAND_OUTPUT_BYTES = 1024 * 1024;

/** Exit code of a usage error: unknown command, undeclared flag, bad flag value. */
export const EXIT_USAGE = 2;

/** A command failure with its own exit code: `throw new CommandError("not found", 3)`. */
export class CommandError extends Error {
  /** The exit code the command ends with. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "CommandError";
    this.exitCode = exitCode;
  }
}

/** A flag after validation. */
interface CompiledFlag {
  readonly name: string;
  readonly type: CommandFlagType;
  readonly default: string | number | boolean | undefined;
  readonly short: string;
}

/** A command after validation: what `Commands` announces and what `ExecuteCommand` runs. */
export interface CompiledCommand {
  readonly name: string;
  readonly info: CommandInfo;
  readonly flags: ReadonlyMap<string, CompiledFlag>;
  readonly run: CommandDef["run"];
}

const COMMAND_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;
const FLAG_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const FLAG_TYPES: readonly CommandFlagType[] = ["boolean", "string", "number"];

function text(value: unknown, where: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw new TypeError(`${where} must be a string`);
  return value;
}

function compileFlag(command: string, name: string, def: CommandFlagDef, shorts: Set<string>): CompiledFlag {
  const where = `commands.${command}.flags.${name}`;
  // `--help`/`-h` always show help in the CLI, so a command can never receive them.
  if (!FLAG_NAME_RE.test(name) || name === "help") {
    throw new TypeError(`${where}: flag name ${JSON.stringify(name)} is invalid: use letters, digits, "_" and "-" (not starting with "-"), and not "help"`);
  }
  if (!def || typeof def !== "object") throw new TypeError(`${where} must be an object like { type: "boolean", description: "…" }`);
  const type = def.type ?? "boolean";
  if (!FLAG_TYPES.includes(type)) throw new TypeError(`${where}.type must be one of ${FLAG_TYPES.join(", ")}, got ${JSON.stringify(type)}`);
  if (def.default !== undefined && typeof def.default !== type) {
    throw new TypeError(`${where}.default must be a ${type} (the flag's type), got ${typeof def.default}`);
  }
  if (type === "number" && def.default !== undefined && !Number.isFinite(def.default)) throw new TypeError(`${where}.default must be a finite number`);
  const short = text(def.short, `${where}.short`);
  if (short !== "") {
    if (!/^[A-Za-z0-9]$/.test(short) || short === "h") throw new TypeError(`${where}.short must be one letter or digit other than "h" (reserved for help), got ${JSON.stringify(short)}`);
    if (shorts.has(short)) throw new TypeError(`${where}.short: -${short} is already the alias of another flag of ${command}`);
    shorts.add(short);
  }
  text(def.description, `${where}.description`);
  return { name, type, default: def.default, short };
}

/**
 * Validates the `commands` of a plugin definition, throwing a TypeError that names the
 * culprit (command, flag, field) at `definePlugin` time.
 */
export function compileCommands(commands: Record<string, CommandDef> | undefined): Map<string, CompiledCommand> {
  const compiled = new Map<string, CompiledCommand>();
  if (commands === undefined) return compiled;
  if (typeof commands !== "object" || commands === null || Array.isArray(commands)) {
    throw new TypeError("commands must be an object of name → { description, usage, flags, run }");
  }
  for (const [name, def] of Object.entries(commands)) {
    if (!COMMAND_NAME_RE.test(name) || name === "help") {
      throw new TypeError(`commands: name ${JSON.stringify(name)} is invalid: use letters, digits, "_", ".", ":" and "-" (not starting with "-"), and not "help"`);
    }
    if (!def || typeof def !== "object") throw new TypeError(`commands.${name} must be an object with a run(args, flags, ctx) function`);
    if (typeof def.run !== "function") throw new TypeError(`commands.${name}.run must be a function (args, flags, ctx) => exit code | string | { stdout, stderr, exitCode }`);
    if (def.flags !== undefined && (typeof def.flags !== "object" || def.flags === null || Array.isArray(def.flags))) {
      throw new TypeError(`commands.${name}.flags must be an object of flag name → { type, description, default, short }`);
    }
    if (def.readsStdin !== undefined && typeof def.readsStdin !== "boolean") throw new TypeError(`commands.${name}.readsStdin must be a boolean`);
    const shorts = new Set<string>();
    const flags = new Map<string, CompiledFlag>();
    for (const [flagName, flagDef] of Object.entries(def.flags ?? {})) flags.set(flagName, compileFlag(name, flagName, flagDef, shorts));
    const info: CommandInfo = {
      name,
      description: text(def.description, `commands.${name}.description`),
      usage: text(def.usage, `commands.${name}.usage`),
      flags: [...flags.values()].map((flag) => ({
        name: flag.name,
        description: def.flags?.[flag.name]?.description ?? "",
        takesValue: flag.type !== "boolean",
        defaultValue: flag.default === undefined ? "" : String(flag.default),
        short: flag.short,
      })),
      readsStdin: def.readsStdin === true,
    };
    compiled.set(name, Object.freeze({ name, info, flags, run: def.run }));
  }
  return compiled;
}

/** The `Commands` answer: every command with its usage and flags. */
export function commandsResponse(commands: ReadonlyMap<string, CompiledCommand>): CommandsResponse {
  return { commands: [...commands.values()].map((c) => ({ ...c.info, flags: c.info.flags.map((f) => ({ ...f })) })) };
}

/** A usage error: exit code 2 with the message on stderr. */
class UsageError extends CommandError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
  }
}

function flagValue(command: string, flag: CompiledFlag, raw: string): string | number | boolean {
  if (flag.type === "string") return raw;
  if (flag.type === "number") {
    const value = raw.trim() === "" ? Number.NaN : Number(raw);
    if (!Number.isFinite(value)) throw new UsageError(`${command}: --${flag.name} takes a number, got ${JSON.stringify(raw)}`);
    return value;
  }
  // A switch arrives as "true" (or "" from a bare `--x=`); `--x=false` turns it off.
  const lower = raw.trim().toLowerCase();
  if (["", "true", "1", "yes", "on"].includes(lower)) return true;
  if (["false", "0", "no", "off"].includes(lower)) return false;
  throw new UsageError(`${command}: --${flag.name} is a switch: give it without a value, or =true / =false (got ${JSON.stringify(raw)})`);
}

/** The flags `run` receives: the given ones parsed by type (long or short names), defaults for the rest. */
export function resolveFlags(command: CompiledCommand, given: Readonly<Record<string, string>>): CommandFlags {
  const byShort = new Map([...command.flags.values()].filter((f) => f.short).map((f) => [f.short, f] as const));
  const flags: CommandFlags = {};
  for (const flag of command.flags.values()) flags[flag.name] = flag.default ?? (flag.type === "boolean" ? false : undefined);
  for (const [key, raw] of Object.entries(given)) {
    const flag = command.flags.get(key) ?? byShort.get(key);
    if (!flag) {
      const known = [...command.flags.keys()].map((f) => `--${f}`);
      throw new UsageError(`${command.name}: unknown flag --${key} (flags: ${known.length > 0 ? known.join(", ") : "none"})`);
    }
    flags[flag.name] = flagValue(command.name, flag, raw);
  }
  return flags;
}

/** A stream that keeps at most `limit` bytes and remembers whether it dropped any. */
class Collector implements CommandOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  dropped = 0;
  closed = false;

  constructor(private readonly limit: number) {}

  write(chunk: string | Uint8Array): boolean {
    if (this.closed) return false;
    if (typeof chunk !== "string" && !(chunk instanceof Uint8Array)) throw new TypeError(`write: expected a string or bytes, got ${typeof chunk}`);
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const room = this.limit - this.size;
    if (bytes.length > room) {
      this.dropped += bytes.length - Math.max(room, 0);
      if (room > 0) this.push(bytes.subarray(0, room));
      return false;
    }
    this.push(bytes);
    return true;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }

  private push(bytes: Buffer): void {
    // Copied: the author may reuse the buffer it wrote.
    this.chunks.push(Buffer.from(bytes));
    this.size += bytes.length;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isInt32(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= -2_147_483_648 && value <= 2_147_483_647;
}

/** Applies a command's return value to its streams; returns the exit code. */
function applyResult(value: CommandResult, stdout: Collector, stderr: Collector): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === "number") {
    if (!isInt32(value)) throw new TypeError(`returned ${value}, which is not a valid exit code (an integer, 0 = success)`);
    return value;
  }
  if (typeof value === "string" || value instanceof Uint8Array) {
    stdout.write(value);
    return 0;
  }
  if (typeof value === "object" && ("stdout" in value || "stderr" in value || "exitCode" in value)) {
    if (value.stdout !== undefined) stdout.write(value.stdout);
    if (value.stderr !== undefined) stderr.write(value.stderr);
    if (value.exitCode === undefined) return 0;
    if (!isInt32(value.exitCode)) throw new TypeError(`returned exitCode ${String(value.exitCode)}, which is not a valid exit code (an integer)`);
    return value.exitCode;
  }
  throw new TypeError(`returned a ${typeof value}; return an exit code, a string (stdout) or { stdout, stderr, exitCode }`);
}

/**
 * Runs the command `request` names. `cancelled` aborts when the caller gives up. Resolves
 * with the answer; never rejects.
 */
export async function runCommand(def: PluginDefinition, runtime: PluginRuntime, request: ExecuteCommandRequest, cancelled: AbortSignal): Promise<ExecuteCommandResponse> {
  const stdout = new Collector(MAX_COMMAND_OUTPUT_BYTES);
  const stderr = new Collector(MAX_COMMAND_OUTPUT_BYTES);
  const controller = new AbortController();
  const onCancel = (): void => controller.abort(Object.assign(new Error("command cancelled by the caller"), { name: "AbortError" }));
  if (cancelled.aborted) onCancel();
  else cancelled.addEventListener("abort", onCancel, { once: true });
  const log = def.log.child({ command: request.command });
  let exitCode: number;
  try {
    const command = def.commands.get(request.command);
    if (!command) {
      const known = [...def.commands.keys()];
      throw new UsageError(`unknown command ${JSON.stringify(request.command)} of plugin ${def.metadata.name} (commands: ${known.length > 0 ? known.join(", ") : "none"})`);
    }
    const flags = resolveFlags(command, request.flags ?? {});
    const ctx: CommandContext = {
      command: command.name,
      stdout,
      stderr,
      stdin: Buffer.from(request.stdin ?? Buffer.alloc(0)),
      env: { ...(request.env ?? {}) },
      cwd: request.cwd ?? "",
      config: runtime.config,
      signal: controller.signal,
      ...runtime.services,
      log: def.log,
    };
    log.debug("command started", { args: request.args.length });
    // A caller that gave up gets nothing more: stop waiting (the command sees its signal abort).
    const result = await Promise.race([
      Promise.resolve().then(() => command.run([...request.args], flags, ctx)),
      new Promise<never>((_resolve, reject) => {
        if (controller.signal.aborted) reject(controller.signal.reason);
        else controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
      }),
    ]);
    exitCode = applyResult(result, stdout, stderr);
  } catch (err) {
    exitCode = err instanceof CommandError && isInt32(err.exitCode) ? err.exitCode : 1;
    const message = messageOf(err) || "command failed without a message";
    if (controller.signal.aborted && err === controller.signal.reason) log.info("command cancelled by the caller");
    else if (!(err instanceof UsageError)) log.warn("command failed", { err });
    stderr.write(`${err instanceof UsageError ? "usage error" : "error"}: ${message}${message.endsWith("\n") ? "" : "\n"}`);
  } finally {
    cancelled.removeEventListener("abort", onCancel);
  }
  // Writes after the command ended (a timer it left behind) are dropped, not half-sent.
  stdout.closed = stderr.closed = true;
  return ExecuteCommandResponse.fromPartial({ stdout: stdout.bytes(), stderr: withTruncationNotes(stderr, stdout), exitCode });
}

/** stderr's bytes, plus one line per stream that went past its limit. */
function withTruncationNotes(stderr: Collector, stdout: Collector): Buffer {
  const notes = [
    stdout.dropped > 0 ? `[qntx] stdout truncated: ${stdout.dropped} bytes past the ${MAX_COMMAND_OUTPUT_BYTES}-byte limit dropped\n` : "",
    stderr.dropped > 0 ? `[qntx] stderr truncated: ${stderr.dropped} bytes past the ${MAX_COMMAND_OUTPUT_BYTES}-byte limit dropped\n` : "",
  ].join("");
  return notes ? Buffer.concat([stderr.bytes(), Buffer.from(notes)]) : stderr.bytes();
}
