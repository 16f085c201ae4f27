/**
 * The `plugins` section of am.plugins.toml, in either of its two forms:
 *
 * - `[plugins.<name>]` tables, this host's own form;
 * - `[[plugins]]` entries with a `name` key, the form of QNTX's external-plugin guide.
 *
 * One file may use both, with the `[[plugins]]` entries first: TOML makes `plugins` an array at
 * its first `[[plugins]]`, and then reads a later `[plugins.hello]` header as a sub-table of the
 * last entry. Such a sub-table whose key is not an entry key (`config`, `env`) is taken for what
 * the user wrote — the table of plugin `hello` — and lifted out of the entry. A name may appear
 * once across both forms; a second one is an error naming both lines.
 */
import { isTable, typeName, type Checker, type RawTable } from "./checker.js";
import type { ResolveContext } from "./host-schema.js";
import { checkPluginName, checkPluginTable, PLUGIN_KEYS, type PluginTablePlace } from "./plugin-schema.js";
import type { PluginEntry } from "./types.js";

/** Keys of a `[[plugins]]` entry: `name` and every key of a plugin table. */
export const PLUGIN_ENTRY_KEYS: readonly string[] = Object.freeze(["name", ...PLUGIN_KEYS]);

/** Validates the `plugins` section and builds one entry per plugin, in file order. */
export function checkPlugins(raw: unknown, check: Checker, ctx: ResolveContext): PluginEntry[] {
  if (raw === undefined) return [];
  const seen = new Map<string, number | undefined>();
  const entries: PluginEntry[] = [];
  const add = (place: PluginTablePlace, namePath: readonly string[], table: unknown): void => {
    if (!checkPluginName(place.name, namePath, check)) return;
    const line = check.lineOf(namePath);
    if (seen.has(place.name)) {
      const first = seen.get(place.name);
      check.report(
        namePath,
        `defines plugin "${place.name}" a second time (lines ${first ?? "?"} and ${line ?? "?"})`,
        "a plugin may appear once, as a [plugins.<name>] table or a [[plugins]] entry: merge the two or rename one",
      );
      return;
    }
    seen.set(place.name, line);
    const entry = checkPluginTable(place, table, check, ctx);
    if (entry) entries.push(entry);
  };

  if (isTable(raw)) {
    for (const [name, table] of Object.entries(raw)) {
      const path = ["plugins", name];
      add({ name, path, header: `[plugins.${name}]` }, path, table);
    }
  } else if (Array.isArray(raw)) {
    raw.forEach((item, index) => checkEntry(item, index, check, ctx, add));
  } else {
    check.report(
      ["plugins"],
      `must be [plugins.<name>] tables or [[plugins]] entries (got ${typeName(raw)})`,
      'write one [plugins.<name>] table per plugin, or [[plugins]] entries with name = "<name>"',
    );
  }
  return entries;
}

type Add = (place: PluginTablePlace, namePath: readonly string[], table: unknown) => void;

/** One `[[plugins]]` entry, and the `[plugins.<name>]` tables TOML nested under it. */
function checkEntry(item: unknown, index: number, check: Checker, ctx: ResolveContext, add: Add): void {
  const path = ["plugins", `[${index}]`];
  if (!isTable(item)) {
    check.report(path, `must be a table (got ${typeName(item)})`, 'write each entry as [[plugins]] with name = "<name>"');
    return;
  }
  const own: RawTable = {};
  const lifted: Array<[string, unknown]> = [];
  for (const [key, value] of Object.entries(item)) {
    if (!PLUGIN_ENTRY_KEYS.includes(key) && isTable(value) && check.hasHeaderUnder(["plugins", key])) lifted.push([key, value]);
    else own[key] = value;
  }
  const place = { path, header: "[[plugins]]", extraKeys: ["name"] };
  if (own.name === undefined) check.report(path, "needs a name", 'add name = "<plugin name>" (the name the plugin reports)');
  const name = own.name === undefined ? undefined : check.string([...path, "name"], own.name);
  if (name !== undefined) add({ ...place, name }, [...path, "name"], own);
  // Without a usable name the entry is still checked, so one pass reports all of its problems.
  else checkPluginTable({ ...place, name: `plugins[${index}]` }, own, check, ctx);
  for (const [name, table] of lifted) {
    const tablePath = ["plugins", name];
    add({ name, path: tablePath, header: `[plugins.${name}]` }, tablePath, table);
  }
}
