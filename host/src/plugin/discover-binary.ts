/**
 * Finds a plugin enabled by name alone (am.toml's `[plugin] enabled`) the way QNTX's
 * discoverPlugin does (plugin/grpc/loader.go): in each search folder in order, each of the names
 * `qntx-<name>-plugin`, `qntx-<name>`, `<name>`; the first that fits wins:
 *
 * - an executable file (any x bit) is spawned;
 * - a file that is not executable is skipped, unless it ends in `.ts` (run through the SDK's
 *   TypeScript runner);
 * - a folder counts when it is a QNTX TypeScript plugin folder (package.json with
 *   `"qntx-plugin": true` and a plugin.ts), or when it holds an executable under one of the
 *   names (a native plugin shipped as a tree with its libraries beside it); other folders are
 *   skipped.
 *
 * It runs when the plugin starts, so a binary installed after the host started is found by
 * `qntx plugin start`. A plugin found nowhere is BINARY_NOT_FOUND with every folder and name
 * tried, why any near miss was skipped, and where to install it.
 */
import { readFileSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import { QntxError } from "@qntx/protocol";
import type { BinarySearch } from "../config/types.js";

/** What was found: a file to spawn, or a TypeScript plugin (file or folder) for the runner. */
export interface DiscoveredPlugin {
  readonly path: string;
  readonly via: "exec" | "runner";
}

/**
 * Searches `search.paths` for plugin `name` under `search.names`.
 * @throws QntxError BINARY_NOT_FOUND naming every folder and name searched, with a hint
 */
export function discoverPlugin(name: string, search: BinarySearch): DiscoveredPlugin {
  const skipped: string[] = [];
  for (const dir of search.paths) {
    for (const fileName of search.names) {
      const candidate = join(dir, fileName);
      const stat = statOrUndefined(candidate);
      if (stat === undefined) continue;
      if (stat.isDirectory()) {
        if (isQntxTsFolder(candidate)) return { path: candidate, via: "runner" };
        const inner = executableInside(candidate, search.names);
        if (inner !== undefined) return { path: inner, via: "exec" };
        skipped.push(`${candidate} is a folder without package.json "qntx-plugin": true and plugin.ts, or an executable ${search.names.join(", ")} inside`);
      } else if ((stat.mode & 0o111) !== 0) {
        return { path: candidate, via: "exec" };
      } else if (candidate.endsWith(".ts")) {
        return { path: candidate, via: "runner" };
      } else {
        skipped.push(`${candidate} is not executable`);
      }
    }
  }
  throw notFound(name, search, skipped);
}

function notFound(name: string, search: BinarySearch, skipped: readonly string[]): QntxError {
  const names = search.names.join(", ");
  const where = search.paths.length === 0 ? "no folders: [plugin] paths is empty" : search.paths.join(", ");
  const nearMisses = skipped.length ? `; skipped: ${skipped.join("; ")}` : "";
  const first = search.paths[0];
  const target = first === undefined ? search.names[0] : join(first, search.names[0] ?? name);
  if (search.repo !== undefined) {
    return new QntxError(
      "BINARY_NOT_FOUND",
      `plugin "${name}" is enabled by repository URL ${search.repo}, which this host does not fetch, and no installed binary was found (searched ${where} for ${names})${nearMisses}`,
      { hint: `install the binary (to one of the search paths): download ${name}'s release from ${search.repo} and put its executable at ${target} (chmod +x), or add the folder that has it to [plugin] paths` },
    );
  }
  return new QntxError("BINARY_NOT_FOUND", `plugin "${name}" not found: searched ${where} for ${names}${nearMisses}`, {
    hint: `install the binary as ${target} (chmod +x), or add the folder that has it to [plugin] paths in am.toml`,
  });
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** A folder QNTX runs as a TypeScript plugin: package.json says `"qntx-plugin": true` and plugin.ts exists. */
function isQntxTsFolder(dir: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { "qntx-plugin"?: unknown };
    return pkg["qntx-plugin"] === true && statOrUndefined(join(dir, "plugin.ts"))?.isFile() === true;
  } catch {
    return false;
  }
}

/** An executable file named like the plugin inside `dir` (QNTX's nativePluginInDir). */
function executableInside(dir: string, names: readonly string[]): string | undefined {
  for (const fileName of names) {
    const path = join(dir, fileName);
    const stat = statOrUndefined(path);
    if (stat !== undefined && !stat.isDirectory() && (stat.mode & 0o111) !== 0) return path;
  }
  return undefined;
}
