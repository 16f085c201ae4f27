/**
 * Config values the way QNTX sends them. QNTX reads am.toml through viper, which lower-cases
 * every key and flattens nested tables to dotted keys; its `doInitialize` then turns each value
 * of the plugin's namespace into a string with Go's fmt and encoding/json. A plugin written for
 * QNTX parses those strings, so a `[<name>]` table of am.toml must reach it as the same text:
 * floats with `%f` (six decimals: 0.5 → "0.500000"), integers with `%d`, booleans as
 * true/false, arrays and tables as Go's JSON (keys sorted, `<`, `>`, `&` escaped). Keys starting
 * with `_` are QNTX's own and are skipped, as are empty strings.
 *
 * The TOML must be parsed with `integersAsBigInt: true`: `1` and `1.0` are the same JS number,
 * but QNTX sends "1" and "1.000000".
 */
import { TomlDate } from "smol-toml";
import { isTable, type RawTable } from "./checker.js";

/**
 * Go's `fmt.Sprintf("%.<decimals>f", x)`: exact decimal rounding, ties to even (JS `toFixed`
 * rounds ties up: 0.0078125 is "0.007813" there, "0.007812" in Go), no exponent ever, `-0`
 * keeps its sign, and NaN/±Inf as Go spells them.
 */
export function goFormatFloat(x: number, decimals = 6): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "+Inf";
  if (x === -Infinity) return "-Inf";
  const negative = x < 0 || Object.is(x, -0);
  const { mantissa, exponent } = decompose(Math.abs(x));
  const scaled = mantissa * 10n ** BigInt(decimals);
  let n: bigint;
  if (exponent >= 0) {
    n = scaled << BigInt(exponent);
  } else {
    const divisor = 1n << BigInt(-exponent);
    n = scaled / divisor;
    const twiceRest = (scaled % divisor) * 2n;
    if (twiceRest > divisor || (twiceRest === divisor && n % 2n === 1n)) n += 1n;
  }
  const digits = n.toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  return `${negative ? "-" : ""}${whole}${decimals > 0 ? `.${digits.slice(-decimals)}` : ""}`;
}

/** A finite non-negative double as `mantissa × 2^exponent`, exactly. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  return biased === 0 ? { mantissa: fraction, exponent: -1074 } : { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/** A TOML date as Go marshals it: the text as written, without a zero fraction, `Z` for a zero offset. */
function goDateText(date: Date): string {
  let text = date.toISOString().replace(/(\.\d*?)0+(?=$|[Z+-])/, "$1").replace(/\.(?=$|[Z+-])/, "");
  if (date instanceof TomlDate && date.isDateTime() && !date.isLocal()) text = text.replace(/[+-]00:00$/, "Z");
  return text;
}

/** A string as Go's encoding/json writes it (HTML-safe: `<`, `>`, `&`, U+2028, U+2029 escaped). */
function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * `value` as Go's `json.Marshal` writes it after viper read it: table keys lower-cased and
 * sorted, floats in their shortest form. Undefined where Go fails (NaN or ±Inf inside), and
 * QNTX then drops the key.
 */
export function goJson(value: unknown): string | undefined {
  if (typeof value === "string") return goJsonString(value);
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (typeof value === "number") return Number.isFinite(value) ? (Object.is(value, -0) ? "-0" : String(value)) : undefined;
  if (value instanceof Date) return goJsonString(goDateText(value));
  if (Array.isArray(value)) {
    const items = value.map(goJson);
    return items.includes(undefined) ? undefined : `[${items.join(",")}]`;
  }
  if (isTable(value)) {
    const lowered = new Map<string, unknown>();
    for (const [key, item] of Object.entries(value)) lowered.set(key.toLowerCase(), item);
    const parts: string[] = [];
    for (const key of [...lowered.keys()].sort()) {
      const item = goJson(lowered.get(key));
      if (item === undefined) return undefined;
      parts.push(`${goJsonString(key)}:${item}`);
    }
    return `{${parts.join(",")}}`;
  }
  return undefined;
}

/**
 * One config value as QNTX's `doInitialize` converts it: strings as they are, integers `%d`,
 * floats `%f`, booleans `%v`, anything else as JSON. Undefined when QNTX would not send it.
 */
export function qntxValue(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return goFormatFloat(value);
  if (typeof value === "boolean") return String(value);
  return goJson(value);
}

/** Two keys of one table that QNTX reads as the same key (viper ignores case). */
export interface KeyClash {
  /** Both keys as written, dotted from the table. */
  readonly keys: readonly [string, string];
}

/**
 * A plugin's `[<name>]` table of am.toml as the config QNTX sends: nested tables flattened to
 * dotted keys, keys lower-cased, `_`-prefixed keys and empty strings skipped. `onClash` hears
 * of keys that differ only in case (viper would keep one of them at random).
 */
export function qntxTableConfig(table: RawTable, onClash: (clash: KeyClash) => void = () => undefined): Record<string, string> {
  const flat = new Map<string, { written: string; value: unknown }>();
  const walk = (node: RawTable, prefix: readonly string[]): void => {
    for (const [key, value] of Object.entries(node)) {
      const written = [...prefix, key];
      if (isTable(value)) {
        walk(value, written);
        continue;
      }
      const lowered = written.join(".").toLowerCase();
      const earlier = flat.get(lowered);
      if (earlier) onClash({ keys: [earlier.written, written.join(".")] });
      else flat.set(lowered, { written: written.join("."), value });
    }
  };
  walk(table, []);
  const out: Record<string, string> = {};
  for (const [key, { value }] of flat) {
    if (key.startsWith("_")) continue;
    const text = qntxValue(value);
    if (text !== undefined && text !== "") out[key] = text;
  }
  return out;
}

/**
 * The `[config]` table of QNTX's per-plugin file (`~/.qntx/plugins/<name>.toml`) as QNTX's
 * `LoadPluginConfigs` converts it: keys lower-cased but not flattened (a nested table is one
 * JSON value), floats `%f`. Empty strings are kept: over am.toml they remove the key, as in QNTX.
 */
export function qntxSectionConfig(table: RawTable): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(table)) {
    const text = qntxValue(value);
    if (text !== undefined) out[key.toLowerCase()] = text;
  }
  return out;
}
