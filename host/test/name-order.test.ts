/** compareNames: the order of localeCompare (English/root collation) without ICU for plugin names. */
import { describe, expect, it } from "@jest/globals";
import { compareNames, isRootCollation } from "../src/plugin/name-order.js";

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** Every name of up to 3 characters over a mixed alphabet, plus longer look-alikes. */
function names(): string[] {
  const alphabet = ["_", "-", "0", "1", "9", "a", "A", "b", "B", "p", "P", "z", "Z"];
  const out = [""];
  for (const a of alphabet) {
    out.push(a);
    for (const b of alphabet) {
      out.push(a + b);
      for (const c of ["_", "-", "1", "a", "B"]) out.push(a + b + c);
    }
  }
  out.push("p01", "p1", "p-1", "p_1", "P01", "plugin-a", "plugin_a", "Plugin-A", "pluginA", "plugina", "hello", "Hello", "hello2", "HELLO");
  return out;
}

describe("compareNames", () => {
  it("orders every pair of [A-Za-z0-9_-] names as localeCompare(…, 'en') does", () => {
    const all = names();
    const wrong: string[] = [];
    for (const a of all) {
      for (const b of all) {
        if (sign(compareNames(a, b)) !== sign(a.localeCompare(b, "en"))) wrong.push(`${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      }
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });

  it("sorts a list the same way", () => {
    const list = ["b", "B", "a_b", "a-b", "A_b", "ab", "aB", "a1", "_a", "-a", "a", "p01", "p1", "P01"];
    expect([...list].sort(compareNames)).toEqual([...list].sort((a, b) => a.localeCompare(b, "en")));
  });

  it("hands names outside [A-Za-z0-9_-] to localeCompare", () => {
    const list = ["éclair", "eclair", "Eclair", "zèbre", "e.b", "e b"];
    expect([...list].sort(compareNames)).toEqual([...list].sort((a, b) => a.localeCompare(b)));
  });
});

describe("isRootCollation", () => {
  it("is true for no locale, C/POSIX and English locales", () => {
    for (const env of [{}, { LANG: "C" }, { LANG: "C.UTF-8" }, { LC_ALL: "POSIX" }, { LANG: "en_US.UTF-8" }, { LANG: "en_GB" }, { LANG: "en" }]) {
      expect(isRootCollation(env)).toBe(true);
    }
  });

  it("is false when a locale that may tailor collation comes first (LC_ALL, then LC_MESSAGES, then LANG)", () => {
    expect(isRootCollation({ LANG: "da_DK.UTF-8" })).toBe(false);
    expect(isRootCollation({ LC_ALL: "de_DE.UTF-8", LANG: "en_US.UTF-8" })).toBe(false);
    expect(isRootCollation({ LC_MESSAGES: "lt_LT", LANG: "C" })).toBe(false);
    expect(isRootCollation({ LC_ALL: "en_US.UTF-8", LANG: "da_DK.UTF-8" })).toBe(true);
    // "Czech" must not pass for C, nor "eo" (Esperanto) for English.
    expect(isRootCollation({ LANG: "cs_CZ" })).toBe(false);
    expect(isRootCollation({ LANG: "eo" })).toBe(false);
  });
});
