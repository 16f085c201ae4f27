/**
 * The `[plugins.<name>]` table of a new plugin, appended to `am.plugins.toml`. The file is
 * the user's: its bytes are kept exactly as they are (comments, order, line endings) and the
 * table goes after them. A table of that name already there is never touched: that is a
 * plugin someone configured, and silently replacing it would lose their settings.
 */
import { appendFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { QntxError } from "@qntx/protocol";
import { parse, TomlError } from "smol-toml";
import { isTable } from "../config/checker.js";
import { SourceIndex } from "../config/locate.js";

/** What goes into the table. */
export interface PluginTable {
  readonly name: string;
  /** `binary`, relative to the config file's folder (as the host resolves it). */
  readonly binary: string;
  /** `config = { … }`: what reaches `InitializeRequest.config`. */
  readonly config?: Readonly<Record<string, string>>;
  /** A comment line put above the table. */
  readonly comment?: string;
}

/** The config file as found: its bytes (empty when missing) and whether it exists. */
export interface ConfigFileState {
  readonly file: string;
  readonly exists: boolean;
  readonly bytes: Buffer;
}

/** TOML text of `table`, lines ending with `eol`. */
export function renderPluginTable(table: PluginTable, eol = "\n"): string {
  const lines: string[] = [];
  if (table.comment) lines.push(`# ${table.comment}`);
  // PLUGIN_NAME_PATTERN names are valid TOML bare keys; JSON strings are valid TOML basic strings.
  lines.push(`[plugins.${table.name}]`, `binary = ${JSON.stringify(table.binary)}`);
  const config = Object.entries(table.config ?? {});
  if (config.length > 0) lines.push(`config = { ${config.map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ")} }`);
  return lines.map((line) => `${line}${eol}`).join("");
}

/**
 * Reads the config file and checks a table for `name` can be appended: the file is valid
 * TOML and has no `plugins.<name>` yet (in any form: a `[plugins.<name>]` header, a dotted
 * key, an inline table). Throws a QntxError `CONFIG_INVALID` naming the file and line.
 */
export function inspectConfigFile(file: string, name: string): ConfigFileState {
  let bytes: Buffer;
  try {
    if (!statSync(file).isFile()) {
      throw new QntxError("CONFIG_INVALID", `${file} is not a file`, { hint: "give --config the path of an am.plugins.toml file" });
    }
    bytes = readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { file, exists: false, bytes: Buffer.alloc(0) };
    if (error instanceof QntxError) throw error;
    throw new QntxError("CONFIG_INVALID", `cannot read ${file}: ${(error as Error).message}`, { hint: "check the file's permissions", cause: error });
  }
  const text = bytes.toString("utf8");
  const raw = parseOrExplain(text, file, "is not valid TOML", "fix the file first, so the table can be added after its content");
  const plugins = raw.plugins;
  if (isTable(plugins) && Object.hasOwn(plugins, name)) {
    const line = new SourceIndex(text).lineOf(["plugins", name]);
    throw new QntxError("CONFIG_INVALID", `${file}${line ? `:${line}` : ""} already has a table for plugin "${name}"; it was left untouched`, {
      hint: `pick another name, or remove [plugins.${name}] from ${file} first`,
    });
  }
  return { file, exists: true, bytes };
}

/**
 * The text that appends `table` to the file `state` describes: after a blank line, with the
 * file's own line endings. Refuses (CONFIG_INVALID) when the result would not parse, e.g.
 * after a `plugins = { … }` inline table, which TOML does not let a later
 * `[plugins.<name>]` header extend. Writes nothing.
 */
export function planAppend(state: ConfigFileState, table: PluginTable): string {
  const text = state.bytes.toString("utf8");
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  let separator = "";
  if (text.length > 0) separator = text.endsWith("\n") ? eol : `${eol}${eol}`;
  const addition = `${separator}${renderPluginTable(table, eol)}`;
  parseOrExplain(`${text}${addition}`, state.file, `would not be valid TOML with [plugins.${table.name}] appended`, `add this table by hand:\n${renderPluginTable(table).trimEnd()}`);
  return addition;
}

/**
 * Appends `addition` (from {@link planAppend}) to the file, or creates the file (and its
 * folder) when it did not exist. The existing bytes stay a byte-for-byte prefix.
 */
export function writeAppend(state: ConfigFileState, addition: string): void {
  if (state.exists) {
    appendFileSync(state.file, addition);
    return;
  }
  mkdirSync(dirname(state.file), { recursive: true });
  // "wx": another process creating the file meanwhile gets an error, not a clobbered file.
  writeFileSync(state.file, addition, { flag: "wx" });
}

function parseOrExplain(text: string, file: string, what: string, hint: string): Record<string, unknown> {
  try {
    const raw: unknown = parse(text);
    return isTable(raw) ? raw : {};
  } catch (error) {
    if (error instanceof TomlError) {
      const detail = (error.message.split("\n")[0] ?? "").replace(/^Invalid TOML document:\s*/, "");
      throw new QntxError("CONFIG_INVALID", `${file}:${error.line}:${error.column} ${what}: ${detail}`, { hint, cause: error });
    }
    throw error;
  }
}
