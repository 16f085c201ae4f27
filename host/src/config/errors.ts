/**
 * The error of a configuration that cannot be used. One `ConfigError` carries every problem
 * found in a file (one line each, `file:line: what`), so a user fixes them in one pass.
 */
import { formatIssue, QntxError, type ConfigIssue } from "@qntx/protocol";

export { formatIssue, type ConfigIssue } from "@qntx/protocol";

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
