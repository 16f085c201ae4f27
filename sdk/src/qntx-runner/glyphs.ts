/**
 * `registerGlyphs()` of a QNTX module → the `RegisterGlyphs` answer. QNTX's runtime handed
 * the returned objects to proto-loader with snake_case keys (`content_path`,
 * `default_width`, …); camelCase keys are read too. A wrong type is an error naming the
 * glyph and field, not a silently empty field.
 */
import type { GlyphDef } from "@qntx/protocol";
import type { Logger } from "../log.js";
import type { QntxModule } from "./types.js";

const STRING_FIELDS = [
  ["symbol", "symbol"],
  ["title", "title"],
  ["label", "label"],
  ["content_path", "contentPath"],
  ["css_path", "cssPath"],
  ["module_path", "modulePath"],
] as const;
const INT_FIELDS = [
  ["default_width", "defaultWidth"],
  ["default_height", "defaultHeight"],
] as const;
const KNOWN = new Set<string>([...STRING_FIELDS, ...INT_FIELDS].flat());

function toGlyph(raw: unknown, where: string, log: Logger): GlyphDef {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new TypeError(`${where} must be an object, got ${JSON.stringify(raw)}`);
  const record = raw as Record<string, unknown>;
  const glyph: Record<string, string | number> = {};
  for (const [snake, camel] of STRING_FIELDS) {
    const value = record[snake] ?? record[camel] ?? "";
    if (typeof value !== "string") throw new TypeError(`${where}.${snake} must be a string, got ${JSON.stringify(value)}`);
    glyph[camel] = value;
  }
  for (const [snake, camel] of INT_FIELDS) {
    const value = record[snake] ?? record[camel] ?? 0;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 2_147_483_647) {
      throw new TypeError(`${where}.${snake} must be a whole number of pixels, got ${JSON.stringify(value)}`);
    }
    glyph[camel] = value;
  }
  const unknown = Object.keys(record).filter((key) => !KNOWN.has(key));
  // QNTX drops unknown keys without a word (a `content_url` typo ships a glyph with no content).
  if (unknown.length > 0) log.warn("glyph has fields GlyphDef does not know; they are not sent", { glyph: where, fields: unknown });
  return glyph as unknown as GlyphDef;
}

/** Calls the module's `registerGlyphs()` (if any) and converts its glyphs. Throws naming the bad glyph. */
export async function glyphsOf(mod: QntxModule, log: Logger): Promise<GlyphDef[]> {
  if (typeof mod.registerGlyphs !== "function") return [];
  const returned: unknown = await mod.registerGlyphs();
  const list = typeof returned === "object" && returned !== null && !Array.isArray(returned) && "glyphs" in returned ? (returned as { glyphs: unknown }).glyphs : returned;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new TypeError(`registerGlyphs() must return an array of glyphs, got ${typeof list}`);
  return list.map((raw, i) => toGlyph(raw, `glyphs[${i}]`, log));
}
