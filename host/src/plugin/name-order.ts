/**
 * The order plugin names (and config keys) are listed in: what `a.localeCompare(b)` gives,
 * computed without ICU for the names the host allows. The first `localeCompare` call makes
 * V8 load ICU's collator, which stays resident for the life of the process (measured on the
 * idle host with 5 plugins: about 2 MB of node's binary paged in plus collator tables on the
 * heap, bench/investigations/host-memory.mjs). Plugin names are `[A-Za-z0-9_-]` (PLUGIN_NAME_PATTERN),
 * and for those the default collation (CLDR root, which English and the C locale use) is
 * simple enough to compute here:
 *   - primary: "_" < "-" < digits < letters, letters without case; a prefix sorts first;
 *   - only when that ties, case from left to right: lower case before upper case.
 * Anything else (other characters, or a process whose locale may tailor collation) goes to
 * `localeCompare`, so the order is the same as before in every case.
 */

const SIMPLE = /^[A-Za-z0-9_-]*$/;

/** Primary weight of a character of SIMPLE: "_" 0, "-" 1, "0"–"9" 2–11, letters 12–37 either case. */
function primary(code: number): number {
  if (code === 0x5f) return 0;
  if (code === 0x2d) return 1;
  if (code <= 0x39) return code - 0x30 + 2;
  return (code | 0x20) - 0x61 + 12;
}

/** Whether a process with `env` collates by CLDR root by default (C/POSIX, or an English locale). */
export function isRootCollation(env: NodeJS.ProcessEnv): boolean {
  // ICU takes its default locale from the first of these that is set (V8 maps C/POSIX to en-US).
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || "";
  return locale === "" || /^(C|POSIX)([._@]|$)/.test(locale) || /^en([_.@-]|$)/.test(locale);
}

let useRoot: boolean | undefined;

/**
 * Compares two names the way `a.localeCompare(b)` does (negative, 0 or positive).
 * ICU's collator is loaded only for a name outside `[A-Za-z0-9_-]` or a non-English locale.
 */
export function compareNames(a: string, b: string): number {
  useRoot ??= isRootCollation(process.env);
  if (!useRoot || !SIMPLE.test(a) || !SIMPLE.test(b)) return a.localeCompare(b);
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = primary(a.charCodeAt(i)) - primary(b.charCodeAt(i));
    if (diff !== 0) return diff < 0 ? -1 : 1;
  }
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  // Same letters: the first difference in case decides, lower case first.
  for (let i = 0; i < length; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) return ca > cb ? -1 : 1;
  }
  return 0;
}
