/**
 * Help text of plugin CLI commands: `qntx <plugin> --help` (a plugin's commands),
 * `qntx <plugin> <command> --help` (one command's usage and flags) and the section
 * `qntx --help` appends (every running plugin's commands).
 */
import type { CommandFlag, CommandInfo } from "@qntx/protocol";

/** Rows of two columns, the first padded to the widest. */
function columns(rows: Array<[string, string]>, indent = "  "): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => (right ? `${indent}${left.padEnd(width)}  ${right}` : `${indent}${left}`).trimEnd());
}

function flagLabel(flag: CommandFlag): string {
  const long = `--${flag.name}${flag.takesValue ? " <value>" : ""}`;
  return flag.short ? `-${flag.short}, ${long}` : `    ${long}`;
}

function flagText(flag: CommandFlag): string {
  return [flag.description, flag.defaultValue ? `(default: ${flag.defaultValue})` : ""].filter(Boolean).join(" ");
}

/** `<command> <usage>`, the synopsis of one command. */
export function synopsis(info: CommandInfo): string {
  return info.usage ? `${info.name} ${info.usage}` : info.name;
}

/** Help of one command: usage, description, flags, whether it reads stdin. */
export function formatCommandHelp(plugin: string, info: CommandInfo): string {
  const lines = [`Usage: qntx ${plugin} ${synopsis(info)}`];
  if (info.description) lines.push("", info.description);
  lines.push("", "Flags:", ...columns([...info.flags.map((f): [string, string] => [flagLabel(f), flagText(f)]), ["-h, --help", "show this help"]]));
  if (info.readsStdin) lines.push("", "Reads standard input (pipe it in: … | qntx " + `${plugin} ${info.name}).`);
  return `${lines.join("\n")}\n`;
}

/** Help of one plugin: each command with its synopsis and description, then each one's flags. */
export function formatPluginHelp(plugin: string, commands: readonly CommandInfo[]): string {
  if (commands.length === 0) return `Plugin ${plugin} contributes no commands.\n`;
  const lines = [`Usage: qntx ${plugin} <command> [args] [--flags]`, "", `Commands of plugin ${plugin}:`];
  lines.push(...columns(commands.map((c): [string, string] => [synopsis(c), c.description])));
  for (const command of commands.filter((c) => c.flags.length > 0)) {
    lines.push("", `Flags of ${command.name}:`, ...columns(command.flags.map((f): [string, string] => [flagLabel(f), flagText(f)])));
  }
  lines.push("", `\`qntx ${plugin} <command> --help\` shows one command's usage.`);
  return `${lines.join("\n")}\n`;
}

/** The section `qntx --help` appends: every running plugin's commands, one line each. */
export function formatCommandListing(plugins: ReadonlyArray<{ plugin: string; commands: readonly CommandInfo[] }>, unavailable: ReadonlyArray<{ plugin: string }>): string {
  const lines: string[] = [];
  if (plugins.length === 0) lines.push("Plugin commands: none (no running plugin contributes any).");
  else {
    lines.push("Plugin commands (of the running host; `qntx <plugin> --help` for flags):");
    lines.push(...columns(plugins.flatMap((p) => p.commands.map((c): [string, string] => [`${p.plugin} ${synopsis(c)}`, c.description]))));
  }
  if (unavailable.length > 0) lines.push(`  (not answering: ${unavailable.map((u) => u.plugin).join(", ")})`);
  return lines.join("\n");
}
