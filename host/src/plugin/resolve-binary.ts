/**
 * Turns the `binary` of a plugin's config into a command to spawn. Relative binaries are
 * looked up in the config file's folder, then in `<data_dir>/plugins` (`~/.qntx/plugins`),
 * then — for a bare name — on PATH. A `.js`/`.mjs`/`.cjs` file is run with the host's own
 * node, so plugins written with the SDK need no shebang or executable bit.
 *
 * TypeScript runs without a build step: a QNTX plugin folder (package.json with
 * `"qntx-plugin": true` and a `plugin.ts`) or a `.ts`/`.mts` file is run as
 * `node <qntx-ts-runner> --plugin-path <file>` — the runner of @qntx/sdk, found through the
 * package's public `./qntx-runner/cli` export, never through its internals. The runner's
 * module (which brings the SDK's server with it) is imported only when such a plugin is
 * resolved, so a host running only built plugins does not keep it in memory.
 *
 * A plugin enabled by name alone (am.toml's `[plugin] enabled`) has no `binary` path: its
 * source carries search folders and names, searched at start by `discover-binary.ts`.
 */
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { QntxError } from "@qntx/protocol";
import type { BinarySource } from "../config/types.js";
import { discoverPlugin } from "./discover-binary.js";

/** What to spawn: `command` with `args` before the plugin's own arguments. */
export interface ResolvedCommand {
  readonly command: string;
  readonly args: readonly string[];
  /** The plugin file that was found. */
  readonly path: string;
}

const NODE_SCRIPT = /\.(m|c)?js$/;
const TYPESCRIPT = /\.m?ts$/;

let runnerPath: string | undefined;

/** The file of the SDK's `qntx-ts-runner`, resolved once from this package's dependency on @qntx/sdk. */
export function qntxRunnerPath(): string {
  if (runnerPath === undefined) {
    try {
      runnerPath = createRequire(import.meta.url).resolve("@qntx/sdk/qntx-runner/cli");
    } catch (err) {
      throw new QntxError("BINARY_NOT_FOUND", `cannot find the TypeScript plugin runner of @qntx/sdk: ${(err as Error).message}`, {
        hint: "install and build @qntx/sdk next to the host (pnpm install && pnpm build)",
      });
    }
  }
  return runnerPath;
}

/** A QNTX plugin folder or a TypeScript file: spawned through the SDK's runner. */
async function viaRunner(found: string): Promise<ResolvedCommand> {
  const { locateQntxPlugin, QntxModuleError } = await import("@qntx/sdk/qntx-runner");
  let file: string;
  try {
    file = locateQntxPlugin(found).file;
  } catch (err) {
    if (err instanceof QntxModuleError) throw new QntxError("BINARY_NOT_FOUND", err.message, { hint: err.hint });
    throw err;
  }
  return { command: process.execPath, args: [qntxRunnerPath(), "--plugin-path", file], path: file };
}

/** Where relative binaries are looked for. */
export interface ResolveWhere {
  /** The config file's folder. */
  readonly baseDir: string;
  /** The data dir; `<dataDir>/plugins` is searched second. */
  readonly dataDir: string;
  /** PATH, for bare names (default: `process.env.PATH`). */
  readonly pathEnv?: string;
}

/**
 * The command of a plugin's binary source, resolved now (at start, so a binary installed after
 * the config loaded is found): `binary` as written, or a search by name (`source.search`).
 * @throws QntxError BINARY_NOT_FOUND, see {@link resolveBinary} and `discoverPlugin`
 */
export async function resolvePluginBinary(source: BinarySource, where: ResolveWhere): Promise<ResolvedCommand> {
  if (source.search === undefined) return resolveBinary(source.binary, where);
  const found = discoverPlugin(source.binary, source.search);
  return found.via === "runner" ? viaRunner(found.path) : { command: found.path, args: [], path: found.path };
}

/**
 * Resolves a `binary` as written in the config.
 * @throws QntxError BINARY_NOT_FOUND listing every path searched, when the file found is
 * not executable, or when a folder is not a QNTX plugin folder (no package.json, no
 * `"qntx-plugin": true`, no plugin.ts), with a hint.
 */
export async function resolveBinary(binary: string, where: ResolveWhere): Promise<ResolvedCommand> {
  const candidates = candidatePaths(binary, where);
  // A folder counts only when it is marked as a plugin folder: a same-named source folder next
  // to the config must not hide the binary in ~/.qntx/plugins or on PATH.
  const found = candidates.find((path) => isFile(path) || isPluginFolder(path)) ?? candidates.find(isDirectory);
  if (!found) {
    throw new QntxError("BINARY_NOT_FOUND", `plugin binary "${binary}" not found (searched: ${candidates.join(", ")})`, {
      hint: "build the plugin, or fix `binary` in am.plugins.toml (relative paths are resolved against the config file's folder, then ~/.qntx/plugins)",
    });
  }
  if (isDirectory(found) || TYPESCRIPT.test(found)) return viaRunner(found);
  if (NODE_SCRIPT.test(found)) return { command: process.execPath, args: [found], path: found };
  try {
    accessSync(found, constants.X_OK);
  } catch {
    throw new QntxError("BINARY_NOT_FOUND", `plugin binary ${found} is not executable`, { hint: `chmod +x ${found}` });
  }
  return { command: found, args: [], path: found };
}

function candidatePaths(binary: string, where: ResolveWhere): string[] {
  if (isAbsolute(binary)) return [binary];
  const paths = [resolve(where.baseDir, binary), resolve(where.dataDir, "plugins", binary)];
  const bare = !binary.includes("/");
  if (bare) {
    for (const dir of (where.pathEnv ?? process.env.PATH ?? "").split(delimiter)) {
      if (dir) paths.push(join(dir, binary));
    }
  }
  return paths;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A folder whose package.json says `"qntx-plugin": true` (what QNTX looks for). */
function isPluginFolder(path: string): boolean {
  if (!isDirectory(path)) return false;
  try {
    return (JSON.parse(readFileSync(join(path, "package.json"), "utf8")) as { "qntx-plugin"?: unknown })["qntx-plugin"] === true;
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
