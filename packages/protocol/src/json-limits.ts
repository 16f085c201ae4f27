/**
 * Limits on the shape of JSON the host takes in (job payloads, attestation attributes, API
 * bodies). Depth is the one that matters for safety: V8 parses JSON of any depth, but every
 * reader that walks it recursively — `JSON.stringify` when an API answers, protobuf's Struct
 * encoder, a plugin's own code — overflows the stack past a few thousand levels. So a value
 * nested deeper than {@link MAX_JSON_DEPTH} is refused where it comes in, and nothing is
 * stored that a reader then cannot read back. The check is iterative: it never recurses.
 */

/** Deepest nesting of arrays and objects accepted (a scalar at the top is depth 0). */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` nests arrays/objects deeper than `max` levels. */
export function jsonDepthExceeds(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== "object") continue;
    if (depth + 1 > max) return true;
    const children = Array.isArray(item) ? item : Object.values(item as Record<string, unknown>);
    for (const child of children) if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
  }
  return false;
}

/** The refusal of a value nested too deep, naming what it was and the limit. */
export function tooDeepMessage(what: string, max: number = MAX_JSON_DEPTH): string {
  return `${what} is nested deeper than ${max} levels (the host's limit on JSON depth)`;
}

/**
 * Parses `bytes` as JSON when they are JSON and checks their depth. Bytes that are not JSON
 * are not judged here (a job payload may be any bytes).
 * @returns a refusal message when the JSON is too deep, else undefined
 */
export function jsonBytesTooDeep(bytes: Uint8Array, what: string, max: number = MAX_JSON_DEPTH): string | undefined {
  if (bytes.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch {
    return undefined;
  }
  return jsonDepthExceeds(value, max) ? tooDeepMessage(what, max) : undefined;
}
