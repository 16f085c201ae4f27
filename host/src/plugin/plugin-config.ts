/**
 * A plugin's effective config, from layers (lowest first):
 *
 * 1. its config in the host config file: the `config` table of `[plugins.<name>]` / `[[plugins]]`
 *    in am.plugins.toml, or the `[<name>]` table of QNTX's am.toml;
 * 2. QNTX's per-plugin file `<data_dir>/plugins/<name>.toml`, its `[config]` table (QNTX loads
 *    it over am.toml; an empty string there removes the key);
 * 3. the host's per-plugin file `<data_dir>/am.<name>.toml` (QNTX's ADR-002 layout: keep secrets
 *    and local settings out of the shared file; PUT /api/plugins/<name>/config writes it).
 *
 * Then `env:VAR` references and `${VAR}` / `${VAR:-default}` are resolved from the environment
 * (config/references.ts). It is then checked against the plugin's ConfigSchema before
 * Initialize, with one error per bad field, and schema defaults fill keys that are missing.
 * The files are read at each start, so edits apply at the plugin's next start.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify, TomlError } from "smol-toml";
import { checkSchemaConfig, ConfigChecker, QntxError, schemaIssueLines, type ConfigSchemaResponse } from "@qntx/protocol";
import { SourceIndex } from "../config/locate.js";
import { qntxPluginFile, readQntxPluginFile } from "../config/qntx-plugin-file.js";
import { resolveConfigValues } from "../config/references.js";
import { flattenConfig } from "../config/schema.js";
import type { HostConfig, PluginEntry } from "../config/types.js";
import { writeFileAtomicSync } from "../atomic-file.js";

/**
 * The layers 1–3 merged, before references are resolved (what GET /api/plugins/<name>/config
 * shows). `own` replaces layer 3 (PUT passes the config it is about to store).
 */
export function layeredConfig(entry: PluginEntry, dataDir: string, own: Readonly<Record<string, string>> = readPluginConfigFile(dataDir, entry.name)): Record<string, string> {
  const out: Record<string, string> = { ...entry.config };
  for (const [key, value] of Object.entries(readQntxPluginFile(dataDir, entry.name))) {
    if (value === "") delete out[key];
    else out[key] = value;
  }
  return { ...out, ...own };
}

/**
 * Where a plugin's config comes from, for messages: `am.plugins.toml:9 plugins.hello`, or
 * `am.toml [hello]` (an am.toml entry's line is its name in `[plugin] enabled`, not its table).
 */
export function configSourceOf(config: Pick<HostConfig, "file" | "format">, entry: PluginEntry): string {
  const file = config.file ?? "am.plugins.toml";
  return config.format === "am.toml" ? `${file} [${entry.name}]` : `${file}${entry.line ? `:${entry.line}` : ""} plugins.${entry.name}`;
}

/** Resolves `env:VAR` references and `${VAR}` in the layered config (see config/references.ts). */
export { resolveConfigValues } from "../config/references.js";

/** Path of a plugin's own config file. */
export function pluginConfigFile(dataDir: string, name: string): string {
  return join(dataDir, `am.${name}.toml`);
}

/** Reads `<data_dir>/am.<name>.toml` (top-level keys are config keys), or {} when there is none. */
export function readPluginConfigFile(dataDir: string, name: string): Record<string, string> {
  const file = pluginConfigFile(dataDir, name);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return {};
  }
  try {
    return flattenConfig(parse(text) as Record<string, unknown>);
  } catch (error) {
    const where = error instanceof TomlError ? `${file}:${error.line}:${error.column}` : file;
    throw new QntxError("CONFIG_INVALID", `${where}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`, { hint: `fix or remove ${file}` });
  }
}

/** Writes a plugin's own config file (what PUT /api/plugins/<name>/config changes). */
export function writePluginConfigFile(dataDir: string, name: string, config: Readonly<Record<string, string>>): void {
  const header = `# Config of plugin ${name}, merged over [plugins.${name}] config in am.plugins.toml.\n# Written by qntx (PUT /api/plugins/${name}/config); edits here apply at the plugin's next start.\n`;
  // Flushed before the rename: a crash or a full disk never leaves a truncated file.
  writeFileAtomicSync(pluginConfigFile(dataDir, name), header + stringify(config) + "\n", { mode: 0o600, durable: true });
}

/**
 * Checks `config` against the plugin's schema and fills defaults (the rules of
 * @qntx/protocol's config-check.ts, which the SDK applies too). `where(key)` names the file and
 * line a key came from, for the messages.
 * @returns the config to send, and one message per bad field (empty when valid)
 */
export function validateConfig(
  config: Readonly<Record<string, string>>,
  schema: ConfigSchemaResponse,
  where?: (key: string) => { file: string; line: number | undefined } | undefined,
): { config: Record<string, string>; errors: string[] } {
  const checker = new ConfigChecker(undefined);
  const out = checkSchemaConfig(checker, config, schema, where);
  return { config: out, errors: schemaIssueLines(checker.issues) };
}

/** Where each config key of a plugin came from, for messages: the top layer that sets it. */
export type KeyLocation = (key: string) => { file: string; line: number | undefined } | undefined;

/** Line finder of a TOML file, or undefined when it cannot be read. */
function indexOf(file: string | undefined): SourceIndex | undefined {
  if (file === undefined) return undefined;
  try {
    return new SourceIndex(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * The file and line each key of a plugin's layered config comes from (layers 3, 2, 1 in turn);
 * a key set by none (a required one missing) points at the plugin's table. Keys of `fresh`
 * (a config given through the API, not yet in any file) have no location.
 */
export function configKeyLocations(config: Pick<HostConfig, "file" | "format" | "host">, entry: PluginEntry, fresh: Readonly<Record<string, string>> = {}): KeyLocation {
  const own = pluginConfigFile(config.host.dataDir, entry.name);
  const ownValues = Object.keys(fresh).length > 0 ? {} : readPluginConfigFile(config.host.dataDir, entry.name);
  const qntx = qntxPluginFile(config.host.dataDir, entry.name);
  const qntxValues = readQntxPluginFile(config.host.dataDir, entry.name);
  const [ownIndex, qntxIndex, hostIndex] = [indexOf(own), indexOf(qntx), indexOf(config.file)];
  const hostPath = config.format === "am.toml" ? [entry.name] : ["plugins", entry.name, "config"];
  return (key) => {
    if (key in fresh) return undefined;
    if (key in ownValues) return { file: own, line: ownIndex?.lineOf([key]) };
    if (key in qntxValues) return { file: qntx, line: qntxIndex?.lineOf(["config", key]) };
    if (config.file === undefined) return undefined;
    // The key's line (or its inline table's); a fallback before the plugin's own table (the
    // `[[plugins]]` form is indexed by position, not name) means not found: then the table's line.
    const found = key in entry.config ? hostIndex?.lineOf([...hostPath, key]) : undefined;
    const line = found !== undefined && (entry.line === undefined || found >= entry.line) ? found : entry.line;
    return { file: config.file, line };
  };
}
