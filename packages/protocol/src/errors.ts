/**
 * The two errors the host, Pulse, the attestation store and the SDK raise:
 *
 * - {@link QntxError}: a code of the catalogue (error-catalogue.ts), a message and a hint.
 *   Pulse's, the store's and the SDK testing helpers' errors are subclasses of it, with a
 *   narrower set of codes, not copies.
 * - {@link PluginCallError}: a call into a plugin that failed, with its gRPC status, the
 *   status's details and the method. Built-in plugins raise it too, so callers handle remote
 *   and built-in plugins alike; {@link PluginCallError.errorCode} names its catalogue code.
 *
 * And the one shape every HTTP error answer of the host has: {@link errorBody}.
 */
import { ERROR_CATALOGUE, type QntxErrorCode } from "./error-catalogue.js";
import { grpcStatusName, pluginCallErrorCode } from "./status.js";

/** The JSON body of every HTTP error answer of the host: `{error, code, hint}`, plus extras some answers carry (`state`, `grpc_status`, …). */
export type ErrorBody<Extra extends object = object> = { error: string; code: QntxErrorCode; hint: string } & Extra;

/**
 * The body of an error answer with `code`: `message` and `hint` default to the catalogue's.
 * Extras come after the three fields (in that order in the JSON) and never replace them.
 */
export function errorBody<Extra extends object = object>(code: QntxErrorCode, message?: string, hint?: string, extra?: Extra): ErrorBody<Extra> {
  const spec = ERROR_CATALOGUE[code];
  const body = { error: message ?? spec.message, code, hint: hint ?? spec.hint };
  return (extra ? { ...body, ...extra, ...body } : body) as ErrorBody<Extra>;
}

/**
 * An error with a stable `code` and a `hint` that says how to fix it. A thrower that has
 * nothing more specific to say leaves the message or the hint out and gets the catalogue's.
 */
export class QntxError<Code extends QntxErrorCode = QntxErrorCode> extends Error {
  readonly code: Code;
  readonly hint: string;

  constructor(code: Code, message?: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message ?? ERROR_CATALOGUE[code].message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "QntxError";
    this.code = code;
    this.hint = options.hint ?? ERROR_CATALOGUE[code].hint;
  }

  /** The HTTP status the host answers this error with (from the catalogue). */
  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }

  /** Message plus hint, for a terminal. */
  describe(): string {
    return this.hint ? `${this.message}\n  hint: ${this.hint}` : this.message;
  }

  /** Shape used in JSON error bodies of the host's HTTP API. */
  toJSON(): ErrorBody & { code: Code } {
    return { error: this.message, code: this.code, hint: this.hint };
  }
}

/**
 * A call into a plugin that failed. `code` is the gRPC status (the one number the gateway maps
 * to HTTP with `grpcStatusToHttp`); `details` is what the status said; `method` is the RPC
 * (`HandleHTTP`), empty when the error did not come from a call on the wire (a built-in
 * plugin, a session cancelled before it started).
 */
export class PluginCallError extends Error {
  readonly code: number;
  readonly method: string;
  readonly details: string;

  constructor(code: number, message: string, options: { method?: string; details?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PluginCallError";
    this.code = code;
    this.method = options.method ?? "";
    this.details = options.details ?? message;
  }

  /** The gRPC status by name (`DEADLINE_EXCEEDED`), as the gateway's `grpc_status` field carries it. */
  get grpcStatus(): string {
    return grpcStatusName(this.code);
  }

  /** The catalogue code of an answer about this failure: PLUGIN_TIMEOUT, PLUGIN_UNIMPLEMENTED or PLUGIN_CALL_FAILED. */
  get errorCode(): QntxErrorCode {
    return pluginCallErrorCode(this.code);
  }

  /** The HTTP status the gateway answers this failure with (504, 404 or 502). */
  get httpStatus(): number {
    return ERROR_CATALOGUE[this.errorCode].status;
  }
}
