/**
 * Stable codes of the errors the host and SDK raise. A code never changes meaning; the
 * message may be reworded. Each error also carries a hint that tells the user what to do.
 */
export type QntxErrorCode =
  | "BINARY_NOT_FOUND"
  | "EXITED_BEFORE_PORT"
  | "PORT_TIMEOUT"
  | "NOT_READY"
  | "WRONG_NAME"
  | "VERSION_MISMATCH"
  | "INITIALIZE_FAILED"
  | "CONFIG_INVALID"
  | "PLUGIN_NOT_FOUND"
  | "PLUGIN_UNAVAILABLE"
  | "HOST_NOT_RUNNING"
  | "UNAUTHORIZED"
  | "INVALID_ARGUMENT"
  | "DEPENDENCY_FAILED"
  | "IN_USE"
  /** A TLS connection to a plugin failed: untrusted or expired certificate, wrong name, or a plaintext peer. */
  | "TLS_FAILED"
  /** A pinned plugin file (`sha256` in its table) does not have the pinned hash: not spawned. */
  | "BINARY_MISMATCH"
  /** A spawned plugin did not take the transport the host asked for (auto-mTLS, unix socket). */
  | "TRANSPORT_UNSUPPORTED";

/** An error with a stable `code` and a `hint` that says how to fix it. */
export class QntxError extends Error {
  readonly code: QntxErrorCode;
  readonly hint: string | undefined;

  constructor(code: QntxErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "QntxError";
    this.code = code;
    this.hint = options.hint;
  }

  /** Message plus hint, for a terminal. */
  describe(): string {
    return this.hint ? `${this.message}\n  hint: ${this.hint}` : this.message;
  }

  /** Shape used in JSON error bodies of the host's HTTP API. */
  toJSON(): { error: string; code: QntxErrorCode; hint?: string } {
    return this.hint ? { error: this.message, code: this.code, hint: this.hint } : { error: this.message, code: this.code };
  }
}
