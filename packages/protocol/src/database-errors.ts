/**
 * Telling database trouble apart, shared by the stores on PostgreSQL (`@qntx/ats`,
 * `@qntx/pulse`) and the host that opens them: a URL fit to show (password masked), whether an
 * error means "the connection" rather than "the statement", and what went wrong in words.
 * Plain functions of strings and error objects: no database driver is needed here.
 */

/**
 * `url` with its password replaced by `***` (in the user-info part and in a `password=`
 * query parameter), fit for logs and error messages.
 */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    if (parsed.searchParams.has("password")) parsed.searchParams.set("password", "***");
    // URL encodes the asterisks in a query; keep them readable.
    return parsed.toString().replace(/password=%2A%2A%2A/g, "password=***");
  } catch {
    // Not a URL: mask anything that looks like user:password@ or password=.
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@").replace(/(password=)[^&\s]*/gi, "$1***");
  }
}

// Node socket errors and PostgreSQL SQLSTATEs that mean "the connection, not the statement".
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
// 57P01 admin_shutdown (a terminated backend), 57P02 crash_shutdown, 57P03 cannot_connect_now
// (starting up or shutting down), 53300 too_many_connections.
const SERVER_CODES = new Set(["57P01", "57P02", "57P03", "53300"]);

/** True when `err` says the database could not be reached or the connection was lost. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === "string" ? e.code : "";
  if (SOCKET_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith("08")) return true;
  const message = typeof e?.message === "string" ? e.message : "";
  // pg's own wording when a socket ends under a query or a connect times out.
  return /Connection terminated|connection timeout|Client has encountered a connection error|Connection is closed/i.test(message);
}

/**
 * What went wrong, in words: the error's message, else its code. (Duck-typed: socket errors
 * come from Node's own realm, where `instanceof Error` of another realm, e.g. a test
 * sandbox, does not hold.)
 */
export function reasonOf(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown } | undefined;
  if (typeof e?.message === "string" && e.message !== "") return e.message;
  if (typeof e?.code === "string") return e.code;
  return String(err);
}
