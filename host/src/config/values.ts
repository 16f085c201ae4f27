/**
 * Checks of value shapes shared by the `[host]` table, plugin tables and am.toml, and the
 * conversion of a plugin's `config` table to the strings `InitializeRequest.config` carries.
 */
import { isTable, typeName, type Checker, type RawTable } from "./checker.js";

/** An array of strings, or [] after reporting. `example` is the hint of a non-array. */
export function checkStringList(path: readonly string[], value: unknown, check: Checker, example = 'write it like args = ["--verbose"]'): string[] {
  if (!Array.isArray(value)) {
    check.report(path, `must be an array of strings (got ${typeName(value)})`, example);
    return [];
  }
  const badIndex = value.findIndex((item) => typeof item !== "string");
  if (badIndex >= 0) {
    check.report(path, `must be an array of strings (item ${badIndex} is a ${typeName(value[badIndex])})`, "quote every item");
    return [];
  }
  return [...(value as string[])];
}

/** `env = { NAME = "value" }`: a table of strings with valid variable names, or {} after reporting. */
export function checkEnv(path: readonly string[], value: unknown, check: Checker): Record<string, string> {
  if (!isTable(value)) {
    check.report(path, `must be a table of strings (got ${typeName(value)})`, 'write it like env = { LOG_LEVEL = "debug" }');
    return {};
  }
  const env: Record<string, string> = {};
  for (const [name, item] of Object.entries(value)) {
    if (name === "" || name.includes("=") || name.includes("\0")) {
      check.report([...path, name], "is not a valid environment variable name");
    } else if (typeof item !== "string") {
      check.report([...path, name], `must be a string (got ${typeName(item)})`, "quote environment values");
    } else {
      env[name] = item;
    }
  }
  return env;
}

/**
 * Flattens a plugin's `config` table (am.plugins.toml) to the strings `InitializeRequest.config`
 * carries: strings as they are, numbers and booleans with `String`, dates as ISO text, arrays
 * and tables as JSON (dates inside them as their TOML text). Keys keep their case.
 * (am.toml's `[<name>]` tables follow QNTX's rules instead: see `qntx-values.ts`.)
 */
export function flattenConfig(table: RawTable): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(table)) out[key] = flattenValue(value);
  return out;
}

function flattenValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}
