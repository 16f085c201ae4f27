/**
 * Config schema: what the `ConfigSchema` RPC answers, and how `Initialize`'s config is
 * completed with defaults and checked before `initialize` sees it.
 */
import { checkSchemaConfig, ConfigChecker, schemaFieldProblems, schemaIssueLines, type ConfigFieldSchema, type ConfigSchemaResponse } from "@qntx/protocol";
import type { ConfigField, ConfigFieldType } from "./types.js";

const TYPES: readonly ConfigFieldType[] = ["string", "number", "boolean", "array"];

/** Wire form of a default: arrays as JSON (so elements may hold commas), the rest as text. */
function defaultText(value: ConfigField["default"]): string {
  if (value === undefined) return "";
  return Array.isArray(value) ? JSON.stringify(value) : String(value);
}

/**
 * Throws a TypeError naming the key when a schema entry is malformed, by the rules the host
 * applies to a plugin's announced schema (@qntx/protocol's config-check.ts). Runs once, in definePlugin.
 */
export function validateConfigSchema(schema: Record<string, ConfigField>): void {
  for (const [key, field] of Object.entries(schema)) {
    if (!field || typeof field !== "object") throw new TypeError(`configSchema.${key}: type must be one of ${TYPES.join(", ")}`);
    const wire = toConfigSchemaResponse({ [key]: field }).fields[key]!;
    if (!TYPES.includes(field.type)) wire.type = String(field.type) || "(none)";
    const problems = schemaFieldProblems(`configSchema.${key}`, wire);
    if (problems.length > 0) throw new TypeError(problems.join("; "));
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

/**
 * Returns `config` with schema defaults filled in, or throws an Error listing every problem
 * (missing required key, wrong type, out of range), so a bad config fails `Initialize` with
 * one clear message instead of surfacing later as odd behaviour. The rules are the host's
 * (@qntx/protocol's config-check.ts): a plugin behind any host sees the same verdict. Keys not
 * in the schema pass through.
 */
export function resolveConfig(config: Record<string, string>, schema: Record<string, ConfigField> | undefined): Record<string, string> {
  const checker = new ConfigChecker(undefined);
  const out = checkSchemaConfig(checker, config, toConfigSchemaResponse(schema));
  if (checker.issues.length > 0) throw new Error(`invalid config: ${schemaIssueLines(checker.issues).join("; ")}`);
  return out;
}
