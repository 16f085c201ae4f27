import { QntxError } from "@qntx/protocol";

/**
 * The catalogue codes Pulse raises (@qntx/protocol error-catalogue.ts, where each has its HTTP
 * status and hint). A code never changes meaning; messages may be reworded.
 */
export type PulseErrorCode = "UNKNOWN_HANDLER" | "AMBIGUOUS_HANDLER" | "NOT_FOUND" | "INVALID_STATE" | "INVALID_ARGUMENT";

/**
 * A QntxError raised by Pulse: the same class with Pulse's codes (its name says where it came
 * from in logs). The hint defaults to the catalogue's.
 */
export class PulseError extends QntxError<PulseErrorCode> {
  constructor(code: PulseErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.name = "PulseError";
  }
}

/** True when `err` is a PulseError (optionally with the given code). */
export function isPulseError(err: unknown, code?: PulseErrorCode): err is PulseError {
  return err instanceof PulseError && (code === undefined || err.code === code);
}
