/**
 * Parses TOML into plain tables, turning a syntax error into `file:line:col: what` with the
 * spot shown in the hint. Two syntax errors a plugin config makes often get a message of their
 * own: a plugin table written twice (both lines named), and `[[plugins]]` entries written after
 * `[plugins.<name>]` tables (TOML then refuses the array; the other order works).
 */
import { parse, TomlError } from "smol-toml";
import { isTable, type RawTable } from "./checker.js";
import { ConfigError, configErrorFromIssues, type ConfigIssue } from "./errors.js";

/** Options of {@link parseToml}. */
export interface ParseTomlOptions {
  /**
   * Every integer as a bigint, so `1` and `1.0` differ (QNTX sends them differently). Without
   * it, only integers beyond 2^53 are bigints.
   */
  readonly integersAsBigInt?: boolean;
}

/**
 * Parses `text`; `file` (absolute) and `shown` (as the user would type it) name it in errors.
 * @throws ConfigError on a syntax error, with line and column
 */
export function parseToml(text: string, file: string | undefined, shown: string, options: ParseTomlOptions = {}): RawTable {
  try {
    // Integers too big for a double stay exact as bigints instead of failing the whole file.
    const raw: unknown = parse(text, { integersAsBigInt: options.integersAsBigInt ? true : "asNeeded" });
    return isTable(raw) ? raw : {};
  } catch (error) {
    if (error instanceof TomlError) throw configErrorFromIssues([syntaxIssue(text, error)], file, shown, error);
    throw new ConfigError(`${shown}: cannot parse: ${(error as Error).message}`, { file, cause: error });
  }
}

function syntaxIssue(text: string, error: TomlError): ConfigIssue {
  const what = (error.message.split("\n")[0] ?? "").replace(/^Invalid TOML document:\s*/, "") || "invalid TOML";
  const spot = error.codeblock ? `:\n${error.codeblock.replace(/\n+$/, "")}` : "";
  const plain: ConfigIssue = { line: error.line, column: error.column, path: "", problem: `TOML syntax error: ${what}`, hint: `fix the TOML syntax at line ${error.line}${spot}` };
  if (!/redefine/.test(what)) return plain;
  const lines = text.split("\n");
  const header = headerAt(lines[error.line - 1] ?? "");
  if (!header) return plain;
  for (let index = 0; index < error.line - 1; index++) {
    const earlier = headerAt(lines[index]!);
    if (!earlier) continue;
    if (earlier.key === header.key && earlier.array === header.array && !header.array) {
      return {
        ...plain,
        column: undefined,
        problem: `[${header.key}] is defined twice (lines ${index + 1} and ${error.line})`,
        hint: header.key.startsWith("plugins.") ? "a plugin may appear once: merge the two tables, or rename one" : "merge the two tables into one",
      };
    }
    if (header.array && !earlier.array && (earlier.key === header.key || earlier.key.startsWith(`${header.key}.`))) {
      return {
        ...plain,
        column: undefined,
        problem: `[[${header.key}]] comes after [${earlier.key}] (line ${index + 1}), which made ${header.key} a table`,
        hint: `write the [[${header.key}]] entries before the [${header.key}.<name>] tables: TOML then reads the tables after the entries, and the host takes each for the plugin it names`,
      };
    }
  }
  return plain;
}

/** The key of a table header line (`[a.b]` or `[[a.b]]`, spaces around dots ignored), else undefined. */
function headerAt(line: string): { key: string; array: boolean } | undefined {
  const match = /^\s*(\[\[?)\s*([^\]#]+?)\s*\]\]?\s*(#.*)?$/.exec(line);
  if (!match) return undefined;
  return { key: match[2]!.split(".").map((part) => part.trim()).join("."), array: match[1] === "[[" };
}
