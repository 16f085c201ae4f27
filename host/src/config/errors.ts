/**
 * The error of a configuration that cannot be used. One `ConfigError` carries every problem
 * found in a file (one line each, `file:line: what`), so a user fixes them in one pass.
 */
import { QntxError } from "@qntx/protocol";

/** One problem in a configuration file. */
export interface ConfigIssue {
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

/** Error with code `CONFIG_INVALID`: a config file that is missing, unreadable, malformed or invalid. */
export class ConfigError extends QntxError {
  /** Absolute path of the file, when the error is about one. */
  readonly file: string | undefined;
  /** Every problem found (empty for errors that are not about a key, such as a missing file). */
  readonly issues: readonly ConfigIssue[];

  constructor(
    message: string,
    options: { hint?: string; cause?: unknown; file?: string | undefined; issues?: readonly ConfigIssue[] } = {},
  ) {
    super("CONFIG_INVALID", message, { hint: options.hint, cause: options.cause });
    this.name = "ConfigError";
    this.file = options.file;
    this.issues = Object.freeze([...(options.issues ?? [])]);
  }
}

/** Formats one issue as `file:line[:col]: path problem` (the prefix drops what is unknown). */
export function formatIssue(issue: ConfigIssue, displayFile: string | undefined): string {
  const where = [issue.fromFlag ? undefined : displayFile, issue.line, issue.line !== undefined ? issue.column : undefined]
    .filter((part) => part !== undefined && part !== "")
    .join(":");
  const what = issue.path ? `${issue.path} ${issue.problem}` : issue.problem;
  return where ? `${where}: ${what}` : what;
}

/**
 * Builds the one error reporting `issues`, one per line of the message, sorted by line
 * (issues without a line, such as flags, first).
 */
export function configErrorFromIssues(
  issues: readonly ConfigIssue[],
  file: string | undefined,
  displayFile: string | undefined,
  cause?: unknown,
): ConfigError {
  const sorted = [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  const message = sorted.map((issue) => formatIssue(issue, displayFile)).join("\n");
  // One problem: its own hint. Several: each line already says what is wrong, and a list of
  // unrelated hints would bury them; callers that want them read `issues`.
  const only = sorted.length === 1 ? sorted[0]!.hint : undefined;
  const hint =
    only ??
    `fix the ${sorted.length === 1 ? "line" : `${sorted.length} problems`} above${displayFile && displayFile !== "<config>" ? ` in ${displayFile}` : ""}`;
  return new ConfigError(message, { hint, file, issues: sorted, cause });
}
