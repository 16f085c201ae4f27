/**
 * The WebSocket origin check. Browsers send `Origin` on every WebSocket handshake and let any
 * page open a socket to any host, so without a check any site the user visits could drive a
 * plugin's terminal on localhost (cross-site WebSocket hijacking). Loopback origins are always
 * allowed; others must match an `allowed_origins` glob. A request without `Origin` comes from
 * a non-browser client, which could forge any header anyway: allowed.
 */

const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/i;

/** Compiles one glob: `*` is any run of characters but `/`, `?` one such character; case-insensitive. */
function compile(pattern: string): RegExp {
  const source = pattern
    .trim()
    .replace(/\/+$/, "")
    .split("")
    .map((c) => (c === "*" ? "[^/]*" : c === "?" ? "[^/]" : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, "i");
}

/** Whether an origin is loopback (`http(s)://localhost|127.0.0.1|[::1]`, any port). */
export function isLoopbackOrigin(origin: string): boolean {
  return LOOPBACK_ORIGIN.test(origin);
}

/**
 * Returns the check for `patterns` (`https://*.example.com`, `http://10.0.0.5:*`; a lone `*`
 * allows every origin). The result takes the `Origin` header, or undefined when absent.
 */
export function createOriginCheck(patterns: readonly string[]): (origin: string | undefined) => boolean {
  const allowAll = patterns.some((p) => p.trim() === "*");
  const compiled = patterns.filter((p) => p.trim() !== "" && p.trim() !== "*").map(compile);
  return (origin) => {
    if (origin === undefined) return true;
    if (allowAll || isLoopbackOrigin(origin)) return true;
    return compiled.some((re) => re.test(origin));
  };
}
