import type { HTTPHeader } from "./gen/domain.js";

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
