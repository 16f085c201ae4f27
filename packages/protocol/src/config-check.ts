/**
 * The one config checker of host and SDK: a collector of issues that knows where keys are
 * (file and line, when a file is involved), type checks that report instead of throwing (so
 * every problem is found in one pass), and the rules of a plugin's `ConfigSchema` — checked by
 * the host before `Initialize` and by the SDK inside it, by this same code.
 */
import type { ConfigFieldSchema, ConfigSchemaResponse } from "./gen/domain.js";

/** One problem in a configuration. */
export interface ConfigIssue {
  /** The file the key is in, when not the one the whole check is about (see {@link formatIssue}). */
  readonly file?: string | undefined;
  /** 1-based line of the offending key or table header, when known. */
  readonly line: number | undefined;
  /** 1-based column, known for syntax errors only. */
  readonly column?: number | undefined;
  /** Dotted key path (`plugins.hello.args`), or a flag (`--listen`), or "" for syntax errors. */
  readonly path: string;
  /** What is wrong, without the location prefix. */
  readonly problem: string;
  /** How to fix it, when there is something more specific to say. */
  readonly hint?: string | undefined;
  /** True when the problem is in a command-line flag rather than in the file. */
  readonly fromFlag?: boolean | undefined;
}

/** Formats one issue as `file:line[:col]: path problem` (the prefix drops what is unknown). */
export function formatIssue(issue: ConfigIssue, displayFile?: string | undefined): string {
  const where = [issue.fromFlag ? undefined : (issue.file ?? displayFile), issue.line, issue.line !== undefined ? issue.column : undefined]
    .filter((part) => part !== undefined && part !== "")
    .join(":");
  const what = issue.path ? `${issue.path} ${issue.problem}` : issue.problem;
  return where ? `${where}: ${what}` : what;
}

/** Where keys are in the source (a TOML index; see the host's config/locate.ts). */
export interface KeyLocator {
  /** Line of `path`, falling back to its enclosing table's. */
  lineOf(path: readonly string[]): number | undefined;
  /** Line of the first table header written exactly as `path`. */
  headerLine?(path: readonly string[]): number | undefined;
  /** Whether a table header written under `path` exists. */
  hasHeaderUnder?(path: readonly string[]): boolean;
}

/** A parsed TOML table (smol-toml returns plain objects, arrays, primitives and TomlDate). */
export type RawTable = Record<string, unknown>;

/** True for a TOML table (not an array, not a date). */
export function isTable(value: unknown): value is RawTable {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** TOML type of a value, for messages: string, number, boolean, array, table or date. */
export function typeName(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (value instanceof Date) return "date";
  if (value === null) return "null";
  if (typeof value === "bigint") return "number";
  return typeof value === "object" ? "table" : typeof value;
}

/**
 * A key path as written in TOML: bare segments as-is, others quoted; an entry of an array of
 * tables (`[i]`) is appended without a dot: `plugins[1].args`.
 */
export function formatPath(path: readonly string[]): string {
  let out = "";
  for (const segment of path) {
    if (/^\[\d+\]$/.test(segment)) out += segment;
    else out += (out === "" ? "" : ".") + (/^[A-Za-z0-9_-]+$/.test(segment) ? segment : JSON.stringify(segment));
  }
  return out;
}

/** Largest delay `setTimeout` honours; above it Node fires at once. */
export const MAX_DURATION_MS = 2_147_483_647;

/** Collects issues, each located at its key's line (or the nearest enclosing table's). */
export class ConfigChecker {
  readonly issues: ConfigIssue[] = [];

  constructor(private readonly source: KeyLocator | undefined) {}

  /** Line of `path` in the source, falling back to its enclosing table. */
  lineOf(path: readonly string[]): number | undefined {
    return this.source?.lineOf(path);
  }

  /** Line of the first table header written exactly as `path`, if any. */
  headerLine(path: readonly string[]): number | undefined {
    return this.source?.headerLine?.(path);
  }

  /** True when a table header written under `path` exists. */
  hasHeaderUnder(path: readonly string[]): boolean {
    return this.source?.hasHeaderUnder?.(path) ?? false;
  }

  /** Records a problem with the key at `path`; `at` places it in another file than the source's. */
  report(path: readonly string[], problem: string, hint?: string, at?: { file: string; line: number | undefined }): void {
    this.issues.push({ file: at?.file, line: at ? at.line : this.lineOf(path), path: formatPath(path), problem, hint });
  }

  /** Records a problem with a command-line flag (no file position). */
  reportFlag(flag: string, problem: string, hint?: string): void {
    this.issues.push({ line: undefined, path: flag, problem, hint, fromFlag: true });
  }

  /** A string, or undefined after reporting. Empty strings are refused unless `allowEmpty`. */
  string(path: readonly string[], value: unknown, allowEmpty = false): string | undefined {
    if (typeof value !== "string") {
      this.report(path, `must be a string (got ${typeName(value)})`);
      return undefined;
    }
    if (!allowEmpty && value.trim() === "") {
      this.report(path, "must not be empty");
      return undefined;
    }
    return value;
  }

  /** A boolean, or undefined after reporting. */
  boolean(path: readonly string[], value: unknown): boolean | undefined {
    if (typeof value === "boolean") return value;
    this.report(path, `must be true or false (got ${typeName(value)})`);
    return undefined;
  }

  /**
   * A positive integer, or undefined after reporting. `kind` adds the bound: ports stop at
   * 65535, durations at what a timer can hold.
   */
  positiveInteger(path: readonly string[], value: unknown, kind: "port" | "duration" | "size"): number | undefined {
    const problem = positiveIntegerProblem(value, kind);
    if (problem === undefined) return value as number;
    this.report(path, problem);
    return undefined;
  }
}

function positiveIntegerProblem(value: unknown, kind: "port" | "duration" | "size"): string | undefined {
  if (typeof value === "bigint") return `is too large (got ${value})`;
  if (typeof value !== "number") return `must be a positive integer (got ${typeName(value)})`;
  if (!Number.isInteger(value) || value <= 0) return `must be a positive integer (got ${value})`;
  if (kind === "port" && value > 65535) return `must be a port from 1 to 65535 (got ${value})`;
  if (kind === "duration" && value > MAX_DURATION_MS) return `must be at most ${MAX_DURATION_MS} ms (got ${value})`;
  if (!Number.isSafeInteger(value)) return `is too large (got ${value})`;
  return undefined;
}

const SCALARS = ["string", "number", "boolean"];

/**
 * What is wrong with one schema field itself (unknown type, element type off an array, a
 * pattern that is no regular expression, a bound that is no number, a default failing its own
 * rule); empty when it is well formed. `name` prefixes each problem.
 */
export function schemaFieldProblems(name: string, field: ConfigFieldSchema): string[] {
  const problems: string[] = [];
  const type = field.type || "string";
  if (![...SCALARS, "array"].includes(type)) return [`${name}: type "${field.type}" is not one of ${[...SCALARS, "array"].join(", ")}`];
  if (field.elementType && (type !== "array" || !SCALARS.includes(field.elementType))) {
    problems.push(`${name}: element_type "${field.elementType}" needs type array and a string, number or boolean element`);
  }
  if (field.pattern) {
    try {
      new RegExp(field.pattern);
    } catch {
      problems.push(`${name}: pattern ${field.pattern} is not a valid regular expression`);
    }
  }
  for (const [bound, text] of [["min_value", field.minValue], ["max_value", field.maxValue]] as const) {
    if (text !== "" && !Number.isFinite(Number(text))) problems.push(`${name}: ${bound} "${text}" is not a number`);
  }
  if (field.defaultValue !== "") {
    // A default filled in must pass the field's own rule, or every start fails.
    const problem = schemaValueProblem(field.defaultValue, field);
    if (problem) problems.push(`default of ${name}: ${problem}`);
  }
  return problems;
}

/** What is wrong with `value` for schema field `field`, or undefined when it passes. */
export function schemaValueProblem(value: string, field: ConfigFieldSchema): string | undefined {
  switch (field.type || "string") {
    case "number": {
      const n = Number(value);
      if (value.trim() === "" || !Number.isFinite(n)) return `must be a number (got "${value}")`;
      return boundsProblem(n, field, "");
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
      const bad = field.elementType ? items.findIndex((item) => typeof item !== field.elementType) : -1;
      if (bad >= 0) return `item ${bad} must be a ${field.elementType} (got ${JSON.stringify(items[bad])})`;
      const re = field.pattern ? patternOf(field.pattern) : undefined;
      const unmatched = re ? items.findIndex((item) => typeof item === "string" && !re.test(item)) : -1;
      if (unmatched >= 0) return `item ${unmatched} must match ${field.pattern}`;
      return boundsProblem(items.length, field, " items");
    }
    case "string": {
      const re = field.pattern ? patternOf(field.pattern) : undefined;
      // The value is not echoed: string settings are often secrets.
      return !re || re.test(value) ? undefined : `must match ${field.pattern}`;
    }
    default:
      return undefined;
  }
}

/** The field's pattern, or undefined when it is broken (the plugin's mistake, not the user's: schemaFieldProblems reports it). */
function patternOf(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern);
  } catch {
    return undefined;
  }
}

function boundsProblem(n: number, field: ConfigFieldSchema, unit: string): string | undefined {
  if (field.minValue !== "" && Number.isFinite(Number(field.minValue)) && n < Number(field.minValue)) return `must be at least ${field.minValue}${unit} (got ${n})`;
  if (field.maxValue !== "" && Number.isFinite(Number(field.maxValue)) && n > Number(field.maxValue)) return `must be at most ${field.maxValue}${unit} (got ${n})`;
  return undefined;
}

/**
 * Checks `config` against a plugin's schema, fills defaults (an empty value counts as
 * missing), and reports one issue per bad field into `checker`, placed by `where(key)` (the
 * file and line the key came from) when given. Keys not in the schema pass through.
 * @returns the config with defaults filled in
 */
export function checkSchemaConfig(
  checker: ConfigChecker,
  config: Readonly<Record<string, string>>,
  schema: ConfigSchemaResponse,
  where?: (key: string) => { file: string; line: number | undefined } | undefined,
): Record<string, string> {
  const out = { ...config };
  // Fields in name order, so messages come out the same on every run.
  for (const [key, field] of Object.entries(schema.fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    let value = out[key];
    if (value === undefined || value === "") {
      if (field.defaultValue !== "") {
        out[key] = value = field.defaultValue;
      } else {
        if (field.required) checker.report([key], `required${field.description ? ` (${field.description})` : ""} but missing`, undefined, where?.(key));
        continue;
      }
    }
    const problem = schemaValueProblem(value, field);
    if (problem) checker.report([key], problem, undefined, where?.(key));
  }
  return out;
}

/** One line per issue, `file:line: key: problem` (the location only where one is known). */
export function schemaIssueLines(issues: readonly ConfigIssue[]): string[] {
  return issues.map((issue) => {
    const where = [issue.file, issue.line].filter((part) => part !== undefined).join(":");
    return `${where ? `${where}: ` : ""}${issue.path}: ${issue.problem}`;
  });
}
