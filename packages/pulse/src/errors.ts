/** Stable codes of the errors Pulse raises. A code never changes meaning; messages may be reworded. */
export type PulseErrorCode = "UNKNOWN_HANDLER" | "AMBIGUOUS_HANDLER" | "NOT_FOUND" | "INVALID_STATE" | "INVALID_ARGUMENT";

/** An error with a stable `code` (and an optional `hint` telling the user what to do). */
export class PulseError extends Error {
  readonly code: PulseErrorCode;
  readonly hint: string | undefined;

  constructor(code: PulseErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PulseError";
    this.code = code;
    this.hint = options.hint;
  }

  /** Message plus hint, for a terminal. */
  describe(): string {
    return this.hint ? `${this.message}\n  hint: ${this.hint}` : this.message;
  }

  /** Shape used in JSON error bodies. */
  toJSON(): { error: string; code: PulseErrorCode; hint?: string } {
    return this.hint ? { error: this.message, code: this.code, hint: this.hint } : { error: this.message, code: this.code };
  }
}

/** True when `err` is a PulseError (optionally with the given code). */
export function isPulseError(err: unknown, code?: PulseErrorCode): err is PulseError {
  return err instanceof PulseError && (code === undefined || err.code === code);
}
