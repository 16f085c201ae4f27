/**
 * Comparing two loads of the configuration, for a reload: which plugins were added, removed or
 * changed. Entries are plain frozen values, so "changed" is structural equality of everything
 * but `line` — moving a table within the file, or adding a comment above it, changes nothing.
 */
import type { PluginEntry } from "./types.js";

/** What a reload has to do: start `added`, stop `removed`, restart `changed` (with its new entry). */
export interface PluginsDiff {
  readonly added: readonly PluginEntry[];
  readonly removed: readonly PluginEntry[];
  readonly changed: ReadonlyArray<{ readonly before: PluginEntry; readonly after: PluginEntry }>;
}

/** True when `a` and `b` describe different plugins or start them differently (`line` ignored). */
export function pluginEntriesDiffer(a: PluginEntry, b: PluginEntry): boolean {
  return !sameValue({ ...a, line: undefined }, { ...b, line: undefined });
}

/**
 * Compares two lists of plugins by name. Each list keeps its own order: `added` and `changed`
 * follow `next`, `removed` follows `old`. A pure function: it reads nothing else.
 */
export function diffPlugins(old: readonly PluginEntry[], next: readonly PluginEntry[]): PluginsDiff {
  const before = new Map(old.map((entry) => [entry.name, entry]));
  const names = new Set(next.map((entry) => entry.name));
  const added: PluginEntry[] = [];
  const changed: Array<{ before: PluginEntry; after: PluginEntry }> = [];
  for (const entry of next) {
    const previous = before.get(entry.name);
    if (previous === undefined) added.push(entry);
    else if (pluginEntriesDiffer(previous, entry)) changed.push({ before: previous, after: entry });
  }
  const removed = old.filter((entry) => !names.has(entry.name));
  return { added, removed, changed };
}

/**
 * Structural equality of config values: primitives by `Object.is`, arrays item by item in order,
 * objects key by key. A key holding `undefined` equals a missing key, so an optional field
 * left out and one set to undefined compare equal; prototypes are not compared.
 */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(left), ...Object.keys(right)]);
  for (const key of keys) if (!sameValue(left[key], right[key])) return false;
  return true;
}
