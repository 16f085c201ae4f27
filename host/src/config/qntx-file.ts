/**
 * The plugins of QNTX's am.toml, read the way QNTX reads them (plugin/grpc/loader.go,
 * internal/config): `[plugin] enabled` names the plugins (a bare name, or a repository URL whose
 * last segment is the name), `[plugin] paths` lists the folders searched for each plugin's
 * binary as `qntx-<name>-plugin`, `qntx-<name>` or `<name>`, and the `[<name>]` table is the
 * plugin's config (its `args` also become the plugin's arguments). The search itself happens
 * when the plugin starts (`plugin/discover-binary.ts`), so a binary installed later is found.
 *
 * Where this host differs from QNTX, on purpose (docs/configuration.md has the list): relative
 * paths resolve against the am.toml's folder, not the cwd; the default search path is
 * `<data_dir>/plugins` (QNTX: `~/.qntx/plugins`, the same folder unless the data dir moved);
 * a repository URL is never fetched.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { isTable, typeName, type Checker, type RawTable } from "./checker.js";
import type { ResolveContext } from "./host-schema.js";
import { resolvePath } from "./paths.js";
import { pluginNameProblem } from "./plugin-schema.js";
import { qntxTableConfig } from "./qntx-values.js";
import { checkStringList } from "./values.js";
import type { PluginEntry } from "./types.js";

/** Keys QNTX knows in `[plugin]` (only `enabled`, `paths` and `websocket.keepalive` are read here). */
export const QNTX_PLUGIN_KEYS: readonly string[] = Object.freeze(["enabled", "paths", "access_token", "runtime", "websocket"]);

/** The file names QNTX tries for plugin `name` in each search folder, most specific first. */
export function qntxBinaryNames(name: string): string[] {
  return [`qntx-${name}-plugin`, `qntx-${name}`, name];
}

/**
 * One `[plugin] enabled` entry: a bare name, or a repository URL (QNTX's ParseEnabledEntry: a
 * URL when it has a scheme and a host) whose plugin name is derived from its path.
 */
export function parseEnabledEntry(entry: string): { name: string; repo: string | undefined } {
  const trimmed = entry.trim();
  let url: URL | undefined;
  try {
    url = new URL(trimmed);
  } catch {
    url = undefined;
  }
  if (url === undefined || url.host === "") return { name: trimmed, repo: undefined };
  return { name: pluginNameFromRepo(trimmed), repo: trimmed };
}

/**
 * QNTX's PluginNameFromRepo: the last path segment without `.git`, except for GitHub-style
 * `/owner/repo/tree/<ref>[/…/name]` links, where the ref is not the name.
 */
export function pluginNameFromRepo(repo: string): string {
  const trimmed = repo.replace(/\/+$/, "").replace(/\.git$/, "");
  try {
    const parts = new URL(trimmed).pathname.replace(/^\/+|\/+$/g, "").split("/");
    if (parts.length >= 4 && parts[2] === "tree") return parts.length > 4 ? parts[parts.length - 1]! : parts[1]!.replace(/\.git$/, "");
  } catch {
    // Not a URL after trimming: fall through to the last segment, as QNTX's path.Base does.
  }
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** What {@link checkQntxPlugins} needs besides the parsed file. */
export interface QntxFileContext extends ResolveContext {
  /** The process cwd: QNTX adds `./qntx-plugins` to the default search paths when it exists there. */
  readonly cwd: string;
  /** The host's data dir, after flags: `<data_dir>/plugins` is the default search path. */
  readonly dataDir: string;
  /** The file's text, to find the line of each `enabled` item. */
  readonly text: string;
}

/**
 * Builds one entry per plugin of `[plugin] enabled`, in order, duplicates dropped (QNTX keeps
 * one too). `rawBig` is the same file parsed with integers as bigints, for QNTX's `%d`/`%f`.
 */
export function checkQntxPlugins(raw: RawTable, rawBig: RawTable, check: Checker, ctx: QntxFileContext): PluginEntry[] {
  if (raw.plugins !== undefined) {
    check.report(
      ["plugins"],
      "is a section of am.plugins.toml, not of am.toml (QNTX's format enables plugins with [plugin] enabled)",
      'write [plugin] enabled = ["<name>"] with a [<name>] config table, or move the [[plugins]] entries to an am.plugins.toml',
    );
  }
  const section = raw.plugin;
  if (section === undefined) return [];
  if (!isTable(section)) {
    check.report(["plugin"], `must be a table (got ${typeName(section)})`, 'write it as [plugin] with enabled = ["<name>"]');
    return [];
  }
  check.unknownKeys(["plugin"], section, QNTX_PLUGIN_KEYS, "[plugin]");
  const enabledPath = ["plugin", "enabled"];
  const enabled = section.enabled === undefined ? [] : checkStringList(enabledPath, section.enabled, check, 'write it like enabled = ["hello"]');
  const paths = section.paths === undefined ? defaultSearchPaths(ctx) : checkSearchPaths(section.paths, check, ctx);

  const entries: PluginEntry[] = [];
  const seen = new Set<string>();
  const enabledLine = check.lineOf(enabledPath);
  for (const item of enabled) {
    const { name, repo } = parseEnabledEntry(item);
    if (seen.has(name)) continue;
    seen.add(name);
    const bad = pluginNameProblem(name);
    if (bad) {
      check.report(enabledPath, `has ${JSON.stringify(item)}, ${repo ? `whose plugin name "${name}" ` : "which "}${bad.problem}`, bad.hint);
      continue;
    }
    const { config, args } = pluginTable(name, rawBig, check);
    entries.push({
      name,
      enabled: true,
      source: { kind: "binary", binary: name, search: { paths, names: qntxBinaryNames(name), repo }, autoStart: true, args, env: {}, cwd: undefined },
      config,
      dependsOn: [],
      line: itemLine(ctx.text, enabledLine, item),
    });
  }
  return entries;
}

/** QNTX's default `[plugin] paths`: the plugins folder, and `./qntx-plugins` when the cwd has one. */
function defaultSearchPaths(ctx: QntxFileContext): string[] {
  const paths = [join(ctx.dataDir, "plugins")];
  const local = join(ctx.cwd, "qntx-plugins");
  try {
    if (statSync(local).isDirectory()) paths.push(local);
  } catch {
    // No ./qntx-plugins here: QNTX adds it only when it exists.
  }
  return paths;
}

/** `[plugin] paths`: local folders (`~` expanded, `file://` allowed), absolute against the file's folder. */
function checkSearchPaths(value: unknown, check: Checker, ctx: QntxFileContext): string[] {
  const path = ["plugin", "paths"];
  const out: string[] = [];
  for (const item of checkStringList(path, value, check, 'write it like paths = ["~/.qntx/plugins", "./plugins"]')) {
    const local = item.startsWith("file://") ? item.slice("file://".length) : item;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(local)) {
      check.report(path, `has ${JSON.stringify(item)}, which is not a local folder`, "list folders on this machine, like ~/.qntx/plugins; this host fetches nothing");
    } else if (local.trim() === "") {
      check.report(path, "has an empty path", "remove it, or write a folder like ~/.qntx/plugins");
    } else {
      out.push(resolvePath(local, ctx.baseDir, ctx.home));
    }
  }
  return out;
}

/** The `[<name>]` table (viper matches it ignoring case): the config QNTX sends, and `args`. */
function pluginTable(name: string, rawBig: RawTable, check: Checker): { config: Record<string, string>; args: string[] } {
  const keys = Object.keys(rawBig).filter((key) => key.toLowerCase() === name.toLowerCase());
  if (keys.length === 0) return { config: {}, args: [] };
  if (keys.length > 1) {
    check.report([keys[1]!], `and [${keys[0]}] are the same table to QNTX, which ignores case`, "merge them into one table");
    return { config: {}, args: [] };
  }
  const key = keys[0]!;
  const table = rawBig[key];
  if (!isTable(table)) {
    check.report([key], `must be a table: it is plugin ${name}'s config (got ${typeName(table)})`, `write it as [${key}] with one key per setting`);
    return { config: {}, args: [] };
  }
  // QNTX reads `args` for the command line and still sends it in the config, as JSON.
  const args = table.args === undefined ? [] : checkStringList([key, "args"], table.args, check, 'write it like args = ["--verbose"]');
  const config = qntxTableConfig(table, ({ keys: [first, second] }) => {
    check.report([key, ...second.split(".")], `is the same key as "${first}" to QNTX, which ignores the case of keys`, "keep one of them");
  });
  return { config, args };
}

/** Line of `item` in a (possibly multi-line) `enabled` array starting at `from`, else `from`. */
function itemLine(text: string, from: number | undefined, item: string): number | undefined {
  if (from === undefined) return undefined;
  const lines = text.split("\n");
  const quoted = [JSON.stringify(item), `'${item}'`];
  for (let index = from - 1; index < lines.length; index++) {
    if (quoted.some((q) => lines[index]!.includes(q))) return index + 1;
    if (index > from - 1 && /^\s*\[/.test(lines[index]!)) break;
  }
  return from;
}

/**
 * One note listing what of a QNTX am.toml this host ignores (other QNTX sections, and the parts
 * of `[server]`, `[pulse]` and `[plugin]` without a counterpart), or undefined when nothing is.
 */
export function qntxIgnoredNote(raw: RawTable, plugins: readonly PluginEntry[], mapped: Readonly<Record<string, readonly string[]>>): string | undefined {
  const read = new Set(["host", "plugin", ...plugins.map((p) => p.name.toLowerCase())]);
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const lower = key.toLowerCase();
    if (read.has(lower)) continue;
    const known = mapped[lower];
    if (known && isTable(value)) {
      const rest = Object.keys(value).filter((k) => !known.includes(k));
      if (rest.length) ignored.push(`[${key}] ${rest.join(", ")}`);
    } else {
      ignored.push(isTable(value) ? `[${key}]` : key);
    }
  }
  const plugin = raw.plugin;
  if (isTable(plugin)) {
    const rest = Object.keys(plugin).filter((k) => k === "access_token" || k === "runtime");
    if (rest.length) ignored.push(`[plugin] ${rest.join(", ")}`);
  }
  if (ignored.length === 0) return undefined;
  return `QNTX settings this host does not use are ignored: ${ignored.join("; ")}`;
}
