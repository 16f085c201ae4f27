/**
 * Errors raised by the attestation store.
 *
 * The host's ATSStoreService turns these into `success:false, error:<message>` bodies (the
 * QNTX convention: plugins read the body, not the gRPC status), so the message is what a
 * plugin author sees and must say what was wrong; the `code` is for the host's own branching
 * and its HTTP API, which answers it with the catalogue's status (@qntx/protocol).
 */
import { QntxError } from "@qntx/protocol";

/**
 * Catalogue codes of {@link AtsError}. A code never changes meaning; messages may be reworded.
 * `DATABASE_UNAVAILABLE`: the database cannot be reached (PostgreSQL); `SCHEMA_TOO_NEW`: the
 * database was migrated by a newer build than this one.
 */
export type AtsErrorCode = "INVALID_ARGUMENT" | "ALREADY_EXISTS" | "DATABASE_UNAVAILABLE" | "SCHEMA_TOO_NEW";

/** A QntxError raised by the attestation store, with one of {@link AtsErrorCode}. */
export class AtsError extends QntxError<AtsErrorCode> {
  /**
   * @param code stable failure kind
   * @param message human-readable, names the offending value (id, batch index…)
   * @param options standard `cause` chaining, e.g. the underlying SQLite error; a `hint`
   *   (default: the catalogue's)
   */
  constructor(code: AtsErrorCode, message: string, options?: { cause?: unknown; hint?: string }) {
    super(code, message, options);
    this.name = "AtsError";
  }
}

/** True when `err` is an {@link AtsError}, optionally of the given code. */
export function isAtsError(err: unknown, code?: AtsErrorCode): err is AtsError {
  return err instanceof AtsError && (code === undefined || err.code === code);
}
