import type { HTTPHeader } from "./gen/domain.js";

// RFC 9110 token characters (`tchar`), the bytes Go's validHeaderFieldByte accepts.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// The same few dozen names come with every request, and the proxy asks for each of them.
const CANONICAL_CACHE_MAX = 1024;
const canonicalCache = new Map<string, string>();

/**
 * A header name in Go's canonical form, as QNTX's proxy hands names to plugins (Go's server
 * canonicalizes every request header key with textproto.CanonicalMIMEHeaderKey): the first
 * letter and every letter after a `-` upper-case, all other letters lower-case —
 * `content-type` → `Content-Type`, `x-request-id` → `X-Request-Id`, `www-authenticate` →
 * `Www-Authenticate`, `ETag` → `Etag`. Only `-` starts a new word (`x_y` → `X_y`). A name with
 * a byte that is not a token character (a space, `:`, non-ASCII…) is returned unchanged, as Go
 * does; so is the empty string.
 */
export function canonicalHeaderName(name: string): string {
  const known = canonicalCache.get(name);
  if (known !== undefined) return known;
  let out = name;
  if (TOKEN.test(name)) {
    out = "";
    let upper = true;
    for (const c of name) {
      out += upper ? c.toUpperCase() : c.toLowerCase();
      upper = c === "-";
    }
  }
  if (canonicalCache.size >= CANONICAL_CACHE_MAX) canonicalCache.clear();
  canonicalCache.set(name, out);
  return out;
}

/** Node's header shape: what `IncomingMessage.headers` holds and `setHeader` accepts. */
export type NodeHeaders = Record<string, string | string[] | number | undefined>;

/**
 * Converts Node headers to wire headers. Each header becomes one `HTTPHeader` holding every
 * value, so repeated headers such as `Set-Cookie` survive the hop.
 */
export function toWireHeaders(headers: NodeHeaders): HTTPHeader[] {
  const out: HTTPHeader[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out.push({ name, values: Array.isArray(value) ? value.map(String) : [String(value)] });
  }
  return out;
}

/**
 * Converts wire headers to a Node header object. Names are lower-cased; two entries with the
 * same name (which some plugins send instead of one entry with several values) are merged.
 */
export function fromWireHeaders(headers: readonly HTTPHeader[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const header of headers) {
    if (!header.name) continue;
    const key = header.name.toLowerCase();
    (out[key] ??= []).push(...header.values);
  }
  return out;
}

/** Returns the first value of header `name` (case-insensitive), or undefined. */
export function headerValue(headers: readonly HTTPHeader[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const header of headers) {
    if (header.name.toLowerCase() === lower && header.values.length > 0) return header.values[0];
  }
  return undefined;
}
