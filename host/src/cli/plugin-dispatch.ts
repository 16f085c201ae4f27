/**
 * `qntx <plugin> <command> [args] [--flags]`: when the first word is not one of qntx's own
 * commands it names a plugin, and the command runs in that plugin through the running host.
 * Its stdout and stderr bytes are written raw and qntx exits with its exit code. Also
 * `qntx <plugin> --help`, `qntx <plugin> <command> --help`, and the plugin commands section
 * of `qntx --help`. Global options (`--config`, `--data-dir`, `--host`) go before the plugin.
 *
 * Exit codes of qntx's own failures: 2 usage (unknown plugin, command or flag), 124 the
 * command did not finish within the host's deadline, 1 anything else (no host, plugin
 * failed or crashed). A plugin's exit code outside 0–255 becomes 1.
 */
import type { Command } from "commander";
import type { CommandInfo } from "@qntx/protocol";
import { ControlClient, START_HINT, type HostAnswer } from "./client.js";
import { CommandUsageError, parseCommandArgs } from "./command-args.js";
import { locationOf, printError, printProblem, type GlobalOptions } from "./common.js";
import { formatCommandHelp, formatCommandListing, formatPluginHelp, synopsis } from "./plugin-help.js";

/** Exit code of a usage error. */
export const EXIT_USAGE = 2;
/** The longest command deadline the CLI asks for (below fetch's 300 s headers timeout). */
export const MAX_COMMAND_TIMEOUT_MS = 290_000;
/** Exit code when the command ran out of time (as `timeout(1)` uses). */
export const EXIT_TIMEOUT = 124;
/** Largest stdin forwarded: base64 in JSON must stay under the host's default 10 MiB body limit. */
export const MAX_STDIN_BYTES = 6 * 1024 * 1024;

/** The global options given before the plugin name. */
type GlobalWords = GlobalOptions;

const VALUE_OPTIONS: Record<string, keyof GlobalWords> = { "--config": "config", "--data-dir": "dataDir", "--host": "host" };

/** The global options before the first word that is not one, and that word's index. */
function leadingGlobals(words: readonly string[]): { globals: GlobalWords; at: number; help: boolean } {
  const globals: GlobalWords = {};
  let help = false;
  let i = 0;
  for (; i < words.length; i++) {
    const word = words[i]!;
    const eq = word.indexOf("=");
    const name = eq === -1 ? word : word.slice(0, eq);
    if (VALUE_OPTIONS[name]) {
      globals[VALUE_OPTIONS[name]] = eq === -1 ? words[++i] : word.slice(eq + 1);
    } else if (word === "--help" || word === "-h") {
      help = true;
    } else break;
  }
  return { globals, at: i, help };
}

/** qntx's own command names (and aliases), `help` included. */
function builtinNames(program: Command): Set<string> {
  return new Set(["help", ...program.commands.flatMap((c) => [c.name(), ...c.aliases()])]);
}

/**
 * Looks at the command line before commander does. Returns true when it ran a plugin command
 * (the exit code is set); false when commander should go on — after appending the plugin
 * commands section to the root help when the root help is what was asked for.
 */
export async function handlePluginWords(program: Command, argv: readonly string[]): Promise<boolean> {
  const words = argv.slice(2);
  const { globals, at, help } = leadingGlobals(words);
  const first = words[at];
  const builtins = builtinNames(program);
  if (first === undefined || (first === "help" && words[at + 1] === undefined)) {
    program.addHelpText("after", `\n${await rootListing(globals)}`);
    return false;
  }
  if (first.startsWith("-")) return false;
  if (first === "help" && words[at + 1] !== undefined && !builtins.has(words[at + 1]!)) {
    process.exitCode = await runPluginWords(words[at + 1]!, ["--help"], globals, [...builtins]);
    return true;
  }
  if (builtins.has(first)) return false;
  // `qntx --help hello` asks for the plugin's help, as `qntx hello --help` does.
  process.exitCode = await runPluginWords(first, help ? ["--help"] : words.slice(at + 1), globals, [...builtins]);
  return true;
}

/** The section `qntx --help` ends with; one short line when no host answers. */
async function rootListing(globals: GlobalWords): Promise<string> {
  const client = ControlClient.find(locationOf(globals));
  if (!client) return "Plugin commands: none listed (no qntx host is running; `qntx server` starts one).";
  try {
    const { status, body } = await client.listAllCommands();
    if (status !== 200) return `Plugin commands: the host at ${client.url} answered ${status}.`;
    return formatCommandListing(body.plugins ?? [], body.unavailable ?? []);
  } catch {
    return `Plugin commands: none listed (no qntx host answering at ${client.url}).`;
  }
}

const fail = printProblem;

/** Runs `qntx <plugin> <words…>`; resolves with the exit code. */
async function runPluginWords(plugin: string, words: string[], globals: GlobalWords, builtins: string[]): Promise<number> {
  const ownCommands = builtins.filter((b) => b !== "help").join(", ");
  const client = ControlClient.find(locationOf(globals));
  if (!client) {
    fail(`"${plugin}" is not a qntx command, and no qntx host is running to ask for a plugin of that name`, `qntx commands: ${ownCommands}; for plugin commands ${START_HINT}`);
    return 1;
  }
  try {
    const listed = await client.listCommands(plugin);
    if (listed.status === 404) {
      const known = listed.body.plugins ?? [];
      fail(`"${plugin}" is neither a qntx command nor a plugin of the running host`, `${known.length > 0 ? `its plugins: ${known.join(", ")}` : "it has no plugins"}; qntx commands: ${ownCommands}`);
      return EXIT_USAGE;
    }
    if (listed.status !== 200) return hostFailure(listed);
    const commands = listed.body.commands ?? [];
    const [name, ...rest] = words;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      const text = formatPluginHelp(plugin, commands);
      if (name === undefined) {
        process.stderr.write(text);
        return EXIT_USAGE;
      }
      process.stdout.write(text);
      return 0;
    }
    const info = commands.find((c) => c.name === name);
    if (!info) {
      const known = commands.map((c) => c.name);
      fail(`plugin ${plugin} has no command "${name}"`, known.length > 0 ? `its commands: ${known.join(", ")} (\`qntx ${plugin} --help\`)` : `plugin ${plugin} contributes no commands`);
      return EXIT_USAGE;
    }
    return await runCommand(client, plugin, info, rest);
  } catch (error) {
    printError(error);
    return 1;
  }
}

async function runCommand(client: ControlClient, plugin: string, info: CommandInfo, words: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandArgs(words, info);
  } catch (error) {
    if (!(error instanceof CommandUsageError)) throw error;
    fail(error.message, `usage: qntx ${plugin} ${synopsis(info)} (\`qntx ${plugin} ${info.name} --help\`)`);
    return EXIT_USAGE;
  }
  if (parsed.help) {
    process.stdout.write(formatCommandHelp(plugin, info));
    return 0;
  }
  const body: Record<string, unknown> = { args: parsed.args, flags: parsed.flags, cwd: process.cwd() };
  if (info.readsStdin) {
    const stdin = await readStdin();
    if (stdin === undefined) {
      fail(`standard input is larger than ${MAX_STDIN_BYTES} bytes`, `send large inputs to the plugin another way (a file path, an HTTP route)`);
      return EXIT_USAGE;
    }
    body.stdin = stdin.toString("base64");
  }
  const timeout = process.env.QNTX_COMMAND_TIMEOUT_MS;
  if (timeout) {
    // Node's fetch gives up on an answer's headers after 300 s, so a longer deadline would end
    // as "host unreachable" while the command still runs.
    if (!/^\d+$/.test(timeout) || Number(timeout) < 1 || Number(timeout) > MAX_COMMAND_TIMEOUT_MS) {
      fail(`QNTX_COMMAND_TIMEOUT_MS must be a whole number of milliseconds from 1 to ${MAX_COMMAND_TIMEOUT_MS} (got "${timeout}")`, "for example QNTX_COMMAND_TIMEOUT_MS=60000; longer work belongs in a Pulse job");
      return EXIT_USAGE;
    }
    body.timeoutMs = Number(timeout);
  }
  const answer = await client.runCommand(plugin, info.name, body);
  if (answer.status !== 200) return answer.status === 504 ? (hostFailure(answer), EXIT_TIMEOUT) : hostFailure(answer);
  const { exitCode = 0, stdout = "", stderr = "" } = answer.body;
  process.stdout.write(Buffer.from(stdout, "base64"));
  process.stderr.write(Buffer.from(stderr, "base64"));
  return Number.isInteger(exitCode) && exitCode >= 0 && exitCode <= 255 ? exitCode : 1;
}

/** Prints the host's error answer; resolves the exit code (2 for 400/404, else 1). */
function hostFailure(answer: HostAnswer): number {
  const message = typeof answer.body.error === "string" ? answer.body.error : `the host answered ${answer.status}`;
  fail(message, typeof answer.body.hint === "string" ? answer.body.hint : undefined);
  return answer.status === 400 || answer.status === 404 ? EXIT_USAGE : 1;
}

/** All of stdin, or undefined when it is larger than MAX_STDIN_BYTES. */
async function readStdin(): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_STDIN_BYTES) {
      process.stdin.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}
