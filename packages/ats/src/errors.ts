/**
 * Errors raised by the attestation store.
 *
 * The host's ATSStoreService turns these into `success:false, error:<message>` bodies (the
 * QNTX convention: plugins read the body, not the gRPC status), so the message is what a
 * plugin author sees and must say what was wrong; the `code` is for the host's own branching.
 */

/**
 * Stable codes of {@link AtsError}. A code never changes meaning; messages may be reworded.
 * `UNAVAILABLE`: the database cannot be reached (PostgreSQL); `SCHEMA_TOO_NEW`: the database
 * was migrated by a newer build than this one.
 */
export type AtsErrorCode = "INVALID_ARGUMENT" | "ALREADY_EXISTS" | "NOT_FOUND" | "UNAVAILABLE" | "SCHEMA_TOO_NEW";

/** An attestation-store error with a stable {@link AtsErrorCode}. */
export class AtsError extends Error {
  /** What kind of failure this is; see {@link AtsErrorCode}. */
  readonly code: AtsErrorCode;
  /** What to do about it, when the message alone does not say. */
  readonly hint: string | undefined;

  /**
   * @param code stable failure kind
   * @param message human-readable, names the offending value (id, batch index…)
   * @param options standard `cause` chaining, e.g. the underlying SQLite error; a `hint`
   */
  constructor(code: AtsErrorCode, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options);
    this.name = "AtsError";
    this.code = code;
    this.hint = options?.hint;
  }
}

/** True when `err` is an {@link AtsError}, optionally of the given code. */
export function isAtsError(err: unknown, code?: AtsErrorCode): err is AtsError {
  return err instanceof AtsError && (code === undefined || err.code === code);
}
