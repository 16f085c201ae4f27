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
import { QntxError, type ConfigSchemaResponse } from "@qntx/protocol";
import { readQntxPluginFile } from "../config/qntx-plugin-file.js";
import { resolveConfigValues } from "../config/references.js";
import { flattenConfig } from "../config/schema.js";
import type { HostConfig, PluginEntry } from "../config/types.js";
import { compareNames } from "./name-order.js";
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
 * Checks `config` against the plugin's schema and fills defaults.
 * @returns the config to send, and one message per bad field (empty when valid)
 */
export function validateConfig(config: Readonly<Record<string, string>>, schema: ConfigSchemaResponse): { config: Record<string, string>; errors: string[] } {
  const out = { ...config };
  const errors: string[] = [];
  for (const [key, field] of Object.entries(schema.fields).sort(([a], [b]) => compareNames(a, b))) {
    let value = out[key];
    if (value === undefined || value === "") {
      if (field.defaultValue !== "") {
        out[key] = value = field.defaultValue;
      } else {
        if (field.required) errors.push(`${key}: required${field.description ? ` (${field.description})` : ""} but missing`);
        continue;
      }
    }
    const problem = checkValue(value, field.type || "string", field);
    if (problem) errors.push(`${key}: ${problem}`);
  }
  return { config: out, errors };
}

type Field = ConfigSchemaResponse["fields"][string];

function checkValue(value: string, type: string, field: Field): string | undefined {
  switch (type) {
    case "number": {
      const n = Number(value);
      if (value.trim() === "" || !Number.isFinite(n)) return `must be a number (got "${value}")`;
      return checkBounds(n, field, "");
    }
    case "boolean":
      return value === "true" || value === "false" ? undefined : `must be true or false (got "${value}")`;
    case "array": {
      let items: unknown;
      try {
        items = JSON.parse(value);
      } catch {
        items = undefined;
      }
      if (!Array.isArray(items)) return `must be an array, like ["a", "b"] (got "${value}")`;
      const bad = field.elementType ? items.findIndex((item) => !matchesElement(item, field.elementType)) : -1;
      if (bad >= 0) return `item ${bad} must be a ${field.elementType} (got ${JSON.stringify(items[bad])})`;
      return checkBounds(items.length, field, " items");
    }
    case "string": {
      if (field.pattern) {
        let re: RegExp;
        try {
          re = new RegExp(field.pattern);
        } catch {
          return undefined; // The plugin's pattern is broken; that is not the user's mistake.
        }
        // The value is not echoed: string settings are often secrets.
        if (!re.test(value)) return `must match ${field.pattern}`;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function checkBounds(n: number, field: Field, unit: string): string | undefined {
  if (field.minValue !== "" && Number.isFinite(Number(field.minValue)) && n < Number(field.minValue)) return `must be at least ${field.minValue}${unit} (got ${n})`;
  if (field.maxValue !== "" && Number.isFinite(Number(field.maxValue)) && n > Number(field.maxValue)) return `must be at most ${field.maxValue}${unit} (got ${n})`;
  return undefined;
}

function matchesElement(item: unknown, type: string): boolean {
  if (type === "number") return typeof item === "number";
  if (type === "boolean") return typeof item === "boolean";
  if (type === "string") return typeof item === "string";
  return true;
}
