/**
 * Edits of compiled code that keep its inline source map true, so stack traces of a plugin
 * still point at the right line and column of its TypeScript. tsx compiles a module to about
 * one long line mapped by an inline source map (`//# sourceMappingURL=data:…;base64,…`):
 * text inserted into that line moves every later position, and the map must move with it.
 */

/** The inline source map at the end of compiled code. */
const INLINE_SOURCE_MAP = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const VLQ_CONTINUE = 32;

/** Reads the first base64 VLQ of `segment`: its value and how many characters it took. */
function readVlq(segment: string): { value: number; length: number } {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < segment.length; i++) {
    const digit = BASE64.indexOf(segment[i]!);
    if (digit < 0) break;
    result += (digit & (VLQ_CONTINUE - 1)) * 2 ** shift;
    shift += 5;
    if ((digit & VLQ_CONTINUE) === 0) {
      const value = result % 2 === 1 ? -(result - 1) / 2 : result / 2;
      return { value, length: i + 1 };
    }
  }
  throw new Error("malformed source map segment");
}

/** `value` as a base64 VLQ. */
function writeVlq(value: number): string {
  let rest = value < 0 ? -value * 2 + 1 : value * 2;
  let out = "";
  do {
    let digit = rest % VLQ_CONTINUE;
    rest = Math.floor(rest / VLQ_CONTINUE);
    if (rest > 0) digit += VLQ_CONTINUE;
    out += BASE64[digit];
  } while (rest > 0);
  return out;
}

/**
 * Source map `mappings` after `by` characters were inserted at generated `line`/`column`:
 * the first segment of that line at or after the column moves right by `by`; later segments
 * of the line are relative to it and move with it, other lines do not change.
 */
export function shiftMappings(mappings: string, line: number, column: number, by: number): string {
  const lines = mappings.split(";");
  const segments = lines[line]?.split(",");
  if (!segments) return mappings;
  let at = 0;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === "") continue;
    const { value, length } = readVlq(segment);
    at += value;
    if (at >= column) {
      segments[i] = writeVlq(value + by) + segment.slice(length);
      lines[line] = segments.join(",");
      return lines.join(";");
    }
  }
  return mappings;
}

/**
 * `code` with `text` inserted at `index`, its inline source map (if it has one) moved to
 * match. A map that cannot be read is left as it is: the code still runs.
 */
export function insertIntoMappedCode(code: string, index: number, text: string): string {
  const edited = code.slice(0, index) + text + code.slice(index);
  const map = INLINE_SOURCE_MAP.exec(edited);
  if (!map || map.index < index) return edited;
  try {
    const json = JSON.parse(Buffer.from(map[1]!, "base64").toString("utf8")) as { mappings?: unknown };
    if (typeof json.mappings !== "string") return edited;
    const before = code.slice(0, index);
    const line = before.split("\n").length - 1;
    const column = index - (before.lastIndexOf("\n") + 1);
    json.mappings = shiftMappings(json.mappings, line, column, text.length);
    return `${edited.slice(0, map.index)}//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(json)).toString("base64")}\n`;
  } catch {
    return edited;
  }
}
