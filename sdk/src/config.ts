/**
 * Config schema: what the `ConfigSchema` RPC answers, and how `Initialize`'s config is
 * completed with defaults and checked before `initialize` sees it.
 */
import type { ConfigFieldSchema, ConfigSchemaResponse } from "@qntx/protocol";
import type { ConfigField, ConfigFieldType } from "./types.js";

const TYPES: readonly ConfigFieldType[] = ["string", "number", "boolean", "array"];

/** Wire form of a default: arrays as JSON (so elements may hold commas), the rest as text. */
function defaultText(value: ConfigField["default"]): string {
  if (value === undefined) return "";
  return Array.isArray(value) ? JSON.stringify(value) : String(value);
}

/** Throws a TypeError naming the key when a schema entry is malformed. Runs once, in definePlugin. */
export function validateConfigSchema(schema: Record<string, ConfigField>): void {
  for (const [key, field] of Object.entries(schema)) {
    if (!field || !TYPES.includes(field.type)) {
      throw new TypeError(`configSchema.${key}: type must be one of ${TYPES.join(", ")}`);
    }
    if (field.elementType !== undefined && (field.type !== "array" || !TYPES.includes(field.elementType) || (field.elementType as string) === "array")) {
      throw new TypeError(`configSchema.${key}: elementType is only for arrays and must be string, number or boolean`);
    }
    if (field.pattern !== undefined) {
      try {
        new RegExp(field.pattern);
      } catch (err) {
        throw new TypeError(`configSchema.${key}: invalid pattern: ${(err as Error).message}`);
      }
    }
  }
}

/** The `ConfigSchema` RPC answer for `schema` (min/max/default travel as strings). */
export function toConfigSchemaResponse(schema: Record<string, ConfigField> | undefined): ConfigSchemaResponse {
  const fields: Record<string, ConfigFieldSchema> = {};
  for (const [key, field] of Object.entries(schema ?? {})) {
    fields[key] = {
      type: field.type,
      description: field.description ?? "",
      defaultValue: defaultText(field.default),
      required: field.required ?? false,
      minValue: field.min === undefined ? "" : String(field.min),
      maxValue: field.max === undefined ? "" : String(field.max),
      pattern: field.pattern ?? "",
      elementType: field.elementType ?? "",
    };
  }
  return { fields };
}

/** Splits an array value: a JSON array, or a comma-separated list. */
function arrayItems(value: string): string[] | undefined {
  const trimmed = value.trim();
  if (trimmed.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      return Array.isArray(parsed) ? parsed.map(String) : undefined;
    } catch {
      return undefined;
    }
  }
  return trimmed === "" ? [] : trimmed.split(",").map((item) => item.trim());
}

function checkScalar(type: ConfigFieldType, value: string, field: ConfigField): string | undefined {
  if (type === "number") {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n)) return `expected a number, got "${value}"`;
    if (field.min !== undefined && n < field.min) return `must be >= ${field.min}, got ${n}`;
    if (field.max !== undefined && n > field.max) return `must be <= ${field.max}, got ${n}`;
  } else if (type === "boolean") {
    if (!/^(true|false|1|0)$/i.test(value.trim())) return `expected true or false, got "${value}"`;
  } else if (field.pattern !== undefined && !new RegExp(field.pattern).test(value)) {
    return `"${value}" does not match /${field.pattern}/`;
  }
  return undefined;
}

/**
 * Returns `config` with schema defaults filled in, or throws an Error listing every problem
 * (missing required key, wrong type, out of range), so a bad config fails `Initialize` with
 * one clear message instead of surfacing later as odd behaviour. Keys not in the schema pass through.
 */
export function resolveConfig(config: Record<string, string>, schema: Record<string, ConfigField> | undefined): Record<string, string> {
  const out: Record<string, string> = { ...config };
  const problems: string[] = [];
  for (const [key, field] of Object.entries(schema ?? {})) {
    let value = out[key];
    if (value === undefined && field.default !== undefined) value = out[key] = defaultText(field.default);
    if (value === undefined) {
      if (field.required) problems.push(`${key}: required but missing`);
      continue;
    }
    if (field.type === "array") {
      const items = arrayItems(value);
      if (!items) {
        problems.push(`${key}: expected a JSON array or a comma-separated list, got "${value}"`);
        continue;
      }
      if (field.min !== undefined && items.length < field.min) problems.push(`${key}: needs at least ${field.min} items`);
      if (field.max !== undefined && items.length > field.max) problems.push(`${key}: allows at most ${field.max} items`);
      const elementType = field.elementType ?? "string";
      for (const item of items) {
        const problem = checkScalar(elementType, item, { type: elementType, pattern: field.pattern });
        if (problem) problems.push(`${key}: element ${problem}`);
      }
      continue;
    }
    const problem = checkScalar(field.type, value, field);
    if (problem) problems.push(`${key}: ${problem}`);
  }
  if (problems.length > 0) throw new Error(`invalid config: ${problems.join("; ")}`);
  return out;
}
