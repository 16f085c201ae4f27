/**
 * Splits the words after `qntx <plugin> <command>` into positional arguments and flags, by
 * the flags the command declares: `--x=y`, `--x y` (a flag that takes a value), `--x` (a
 * switch, sent as "true"), `--no-x` (a switch turned off), `-s`/`-s value` (short aliases),
 * `--` (everything after is positional), `-` alone and negative numbers are positional.
 * `--help`/`-h` anywhere asks for the command's help. Flags reach the plugin by long name.
 *
 * Why not plain `parseArgs`: its strict mode names no declared flags in errors and reads a
 * negative number as a flag, so it runs non-strict and this walks its tokens to add both.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { CommandFlag, CommandInfo } from "@qntx/protocol";

/** What the words ask for. */
export interface ParsedCommandArgs {
  readonly args: string[];
  readonly flags: Record<string, string>;
  /** `--help` or `-h` was given: show the command's help instead of running it. */
  readonly help: boolean;
}

/** A usage error of the command line (exit code 2), with the command's flags in the message. */
export class CommandUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommandUsageError";
  }
}

const NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;
const HELP = "help";

function flagList(info: CommandInfo): string {
  return info.flags.length > 0 ? info.flags.map((f) => `--${f.name}`).join(", ") : "none";
}

/** parseArgs options for the declared flags; `help`/`-h` always mean help, as the CLI promises. */
function optionsOf(info: CommandInfo): NonNullable<ParseArgsConfig["options"]> {
  const options: NonNullable<ParseArgsConfig["options"]> = { [HELP]: { type: "boolean", short: "h" } };
  for (const flag of info.flags) {
    if (flag.name === HELP) continue;
    // Plugins in other languages may announce any alias; parseArgs takes one character only.
    const short = flag.short.length === 1 && flag.short !== "h" ? { short: flag.short } : {};
    options[flag.name] = { type: flag.takesValue ? "string" : "boolean", ...short };
  }
  return options;
}

/** Parses `words` for command `info`; throws CommandUsageError on an undeclared flag or a missing value. */
export function parseCommandArgs(words: readonly string[], info: CommandInfo): ParsedCommandArgs {
  const byName = new Map(info.flags.map((f) => [f.name, f] as const));
  const { tokens } = parseArgs({ args: [...words], options: optionsOf(info), strict: false, allowPositionals: true, tokens: true });
  const args: string[] = [];
  const flags: Record<string, string> = {};
  let help = false;
  const negativeAt = new Set<number>();

  for (const token of tokens) {
    if (token.kind === "positional") {
      args.push(token.value);
      continue;
    }
    if (token.kind === "option-terminator") continue;
    const word = words[token.index]!;
    if (NEGATIVE_NUMBER.test(word)) {
      // `-5` or `-1.5` (parseArgs reads them as short flags, one per character): an argument.
      if (!negativeAt.has(token.index)) args.push(word);
      negativeAt.add(token.index);
      continue;
    }
    if (token.name === HELP) {
      help = true;
      continue;
    }
    let flag: CommandFlag | undefined = byName.get(token.name);
    if (!flag && token.rawName.startsWith("--no-") && token.value === undefined) {
      // `--no-x` turns switch x off, unless the command declares a flag literally named no-x.
      const negated = byName.get(token.name.slice(3));
      if (negated && !negated.takesValue) {
        flags[negated.name] = "false";
        continue;
      }
    }
    if (!flag) {
      const named = token.rawName === word || word.startsWith("--") ? token.rawName : `${token.rawName} (in ${word})`;
      throw new CommandUsageError(`${info.name}: unknown flag ${named} (flags: ${flagList(info)}); put arguments that start with "-" after --`);
    }
    if (token.value !== undefined) {
      flags[flag.name] = token.value;
    } else if (!flag.takesValue) {
      flags[flag.name] = "true";
    } else {
      throw new CommandUsageError(`${info.name}: --${flag.name} needs a value (--${flag.name} <value> or --${flag.name}=<value>)`);
    }
  }
  return { args, flags, help };
}
