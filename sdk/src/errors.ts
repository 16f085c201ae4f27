/**
 * Errors a route handler can throw to answer with a specific HTTP status.
 */

/**
 * Thrown by a handler (or by `req.json()`) to answer `status` with the JSON body
 * `{"error": message}`. Any other error thrown by a handler becomes a 500.
 *
 * @example
 * if (!user) throw new HttpError(404, `no user ${req.params.id}`);
 */
export class HttpError extends Error {
  /** HTTP status code answered, 400–599. */
  readonly status: number;
  /** Extra response headers, e.g. `WWW-Authenticate` on a 401. */
  readonly headers: Record<string, string | string[]>;

  constructor(status: number, message: string, options: { headers?: Record<string, string | string[]>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // A status outside the error range would make the error invisible to the caller;
    // fall back to 500 rather than answering "200 {error}".
    this.status = Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
    this.headers = options.headers ?? {};
    this.name = "HttpError";
  }
}

/** True when `value` is an {@link HttpError}, also one from another copy of the SDK. */
export function isHttpError(value: unknown): value is HttpError {
  return (
    value instanceof HttpError ||
    (value instanceof Error && value.name === "HttpError" && typeof (value as { status?: unknown }).status === "number")
  );
}
