/**
 * Shared pieces of validation: a collector of issues that knows where keys are in the
 * source, and type checks that report instead of throwing, so every problem of a file is
 * found in one pass.
 */
import type { ConfigIssue } from "./errors.js";
import type { SourceIndex } from "./locate.js";
import { closest } from "./suggest.js";

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
 * tables (`[i]`, see `locate.ts`) is appended without a dot: `plugins[1].args`.
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
export class Checker {
  readonly issues: ConfigIssue[] = [];

  constructor(private readonly source: SourceIndex | undefined) {}

  /** Line of `path` in the source, falling back to its enclosing table. */
  lineOf(path: readonly string[]): number | undefined {
    return this.source?.lineOf(path);
  }

  /** Line of the first table header written exactly as `path`, if any (see `SourceIndex.headerLine`). */
  headerLine(path: readonly string[]): number | undefined {
    return this.source?.headerLine(path);
  }

  /** True when a table header written under `path` exists (see `SourceIndex.hasHeaderUnder`). */
  hasHeaderUnder(path: readonly string[]): boolean {
    return this.source?.hasHeaderUnder(path) ?? false;
  }

  /** Records a problem with the key at `path`. */
  report(path: readonly string[], problem: string, hint?: string): void {
    this.issues.push({ line: this.lineOf(path), path: formatPath(path), problem, hint });
  }

  /** Records a problem with a command-line flag (no file position). */
  reportFlag(flag: string, problem: string, hint?: string): void {
    this.issues.push({ line: undefined, path: flag, problem, hint, fromFlag: true });
  }

  /** Reports every key of `table` that is not in `known`, with a suggestion when one is close. */
  unknownKeys(path: readonly string[], table: RawTable, known: readonly string[], where: string): void {
    for (const key of Object.keys(table)) {
      if (known.includes(key)) continue;
      const guess = closest(key, known);
      this.report(
        [...path, key],
        `is not a known key${guess ? ` (did you mean "${guess}"?)` : ""}`,
        `${where} accepts: ${known.join(", ")}`,
      );
    }
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
    if (typeof value === "bigint") {
      this.report(path, `is too large (got ${value})`);
      return undefined;
    }
    if (typeof value !== "number") {
      this.report(path, `must be a positive integer (got ${typeName(value)})`);
      return undefined;
    }
    if (!Number.isInteger(value) || value <= 0) {
      this.report(path, `must be a positive integer (got ${value})`);
      return undefined;
    }
    if (kind === "port" && value > 65535) {
      this.report(path, `must be a port from 1 to 65535 (got ${value})`);
      return undefined;
    }
    if (kind === "duration" && value > MAX_DURATION_MS) {
      this.report(path, `must be at most ${MAX_DURATION_MS} ms (got ${value})`);
      return undefined;
    }
    if (!Number.isSafeInteger(value)) {
      this.report(path, `is too large (got ${value})`);
      return undefined;
    }
    return value;
  }
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

/**
 * Checks a `host:port` address (no scheme). The host is a name, an IPv4 address or a
 * bracketed IPv6 address; the port must be 1–65535, or 0–65535 when `allowPortZero`.
 * Returns undefined when it is fine, else the problem.
 */
export function addressProblem(value: string, allowPortZero: boolean): { problem: string; hint?: string } | undefined {
  const example = allowPortZero ? "127.0.0.1:8770" : "127.0.0.1:9000";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    return { problem: `must be host:port without a scheme (got ${JSON.stringify(value)})`, hint: `write it like "${example}"` };
  }
  const match = HOST_PORT.exec(value);
  if (!match) {
    const hint = /^\d+$/.test(value) ? `add the host: "127.0.0.1:${value}"` : `write it like "${example}"`;
    return { problem: `must look like host:port (got ${JSON.stringify(value)})`, hint };
  }
  const port = Number(match[2]);
  const min = allowPortZero ? 0 : 1;
  if (port < min || port > 65535) {
    return { problem: `has port ${port}; the port must be from ${min} to 65535` };
  }
  return undefined;
}
