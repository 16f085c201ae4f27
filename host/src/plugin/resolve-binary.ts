/**
 * Turns the `binary` of a plugin's config into a command to spawn. Relative binaries are
 * looked up in the config file's folder, then in `<data_dir>/plugins` (`~/.qntx/plugins`),
 * then — for a bare name — on PATH. A `.js`/`.mjs`/`.cjs` file is run with the host's own
 * node, so plugins written with the SDK need no shebang or executable bit.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { QntxError } from "@qntx/protocol";

/** What to spawn: `command` with `args` before the plugin's own arguments. */
export interface ResolvedCommand {
  readonly command: string;
  readonly args: readonly string[];
  /** The plugin file that was found. */
  readonly path: string;
}

const NODE_SCRIPT = /\.(m|c)?js$/;

/**
 * @throws QntxError BINARY_NOT_FOUND listing every path searched, or when the file found is
 * not executable.
 */
export function resolveBinary(binary: string, where: { baseDir: string; dataDir: string; pathEnv?: string }): ResolvedCommand {
  const candidates = candidatePaths(binary, where);
  const found = candidates.find(isFile);
  if (!found) {
    throw new QntxError("BINARY_NOT_FOUND", `plugin binary "${binary}" not found (searched: ${candidates.join(", ")})`, {
      hint: "build the plugin, or fix `binary` in am.plugins.toml (relative paths are resolved against the config file's folder, then ~/.qntx/plugins)",
    });
  }
  if (NODE_SCRIPT.test(found)) return { command: process.execPath, args: [found], path: found };
  try {
    accessSync(found, constants.X_OK);
  } catch {
    throw new QntxError("BINARY_NOT_FOUND", `plugin binary ${found} is not executable`, { hint: `chmod +x ${found}` });
  }
  return { command: found, args: [], path: found };
}

function candidatePaths(binary: string, where: { baseDir: string; dataDir: string; pathEnv?: string }): string[] {
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
