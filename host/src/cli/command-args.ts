/**
 * Splits the words after `qntx <plugin> <command>` into positional arguments and flags, by
 * the flags the command declares: `--x=y`, `--x y` (a flag that takes a value), `--x` (a
 * switch, sent as "true"), `--no-x` (a switch turned off), `-s`/`-s value` (short aliases),
 * `--` (everything after is positional), `-` alone and negative numbers are positional.
 * `--help`/`-h` anywhere asks for the command's help. Flags reach the plugin by long name.
 */
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

function flagList(info: CommandInfo): string {
  return info.flags.length > 0 ? info.flags.map((f) => `--${f.name}`).join(", ") : "none";
}

/** Parses `words` for command `info`; throws CommandUsageError on an undeclared flag or a missing value. */
export function parseCommandArgs(words: readonly string[], info: CommandInfo): ParsedCommandArgs {
  const byName = new Map(info.flags.map((f) => [f.name, f] as const));
  const byShort = new Map(info.flags.filter((f) => f.short).map((f) => [f.short, f] as const));
  const args: string[] = [];
  const flags: Record<string, string> = {};
  let help = false;
  const unknown = (word: string): CommandUsageError =>
    new CommandUsageError(`${info.name}: unknown flag ${word} (flags: ${flagList(info)}); put arguments that start with "-" after --`);

  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === "--") {
      args.push(...words.slice(i + 1));
      break;
    }
    if (word === "--help" || word === "-h") {
      help = true;
      continue;
    }
    if (word === "-" || !word.startsWith("-") || NEGATIVE_NUMBER.test(word)) {
      args.push(word);
      continue;
    }
    const long = word.startsWith("--");
    const body = word.slice(long ? 2 : 1);
    const eq = body.indexOf("=");
    const key = eq === -1 ? body : body.slice(0, eq);
    const flag: CommandFlag | undefined = long ? byName.get(key) : key.length === 1 ? byShort.get(key) : undefined;
    if (!flag && long && key.startsWith("no-") && eq === -1) {
      // `--no-x` turns switch x off, unless the command declares a flag literally named no-x.
      const negated = byName.get(key.slice(3));
      if (negated && !negated.takesValue) {
        flags[negated.name] = "false";
        continue;
      }
    }
    if (!flag) throw unknown(long ? `--${key}` : `-${key}`);
    if (eq !== -1) {
      flags[flag.name] = body.slice(eq + 1);
    } else if (!flag.takesValue) {
      flags[flag.name] = "true";
    } else {
      const value = words[i + 1];
      if (value === undefined) throw new CommandUsageError(`${info.name}: --${flag.name} needs a value (--${flag.name} <value> or --${flag.name}=<value>)`);
      flags[flag.name] = value;
      i++;
    }
  }
  return { args, flags, help };
}
