/**
 * Finds the module file of a QNTX-format plugin. QNTX's layout is a folder holding a
 * `package.json` with `"qntx-plugin": true` and a `plugin.ts`; the runner also takes a single
 * `.ts`/`.mts`/`.js`/`.mjs` file (an SDK plugin written in TypeScript, or a QNTX module
 * without its folder). Every refusal names the path and says how to fix it.
 */
import { readFileSync, statSync, type Stats } from "node:fs";
import { extname, join, resolve } from "node:path";
import { QntxModuleError, messageOf } from "./errors.js";

/** Extensions the runner loads (TypeScript through tsx, JavaScript as is). */
export const MODULE_EXTENSIONS: readonly string[] = [".ts", ".mts", ".cts", ".tsx", ".js", ".mjs", ".cjs"];

/** The entry file QNTX looks for in a plugin folder. */
export const QNTX_ENTRY_FILE = "plugin.ts";

/** Where a plugin's code was found. */
export interface LocatedPlugin {
  /** Absolute path of the module to import. */
  readonly file: string;
  /** The plugin folder when a folder was given (its package.json has `"qntx-plugin": true`). */
  readonly folder: string | undefined;
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Reads the folder's package.json and checks the `"qntx-plugin": true` flag. */
function checkPackageJson(folder: string): void {
  const file = join(folder, "package.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new QntxModuleError(
      `${folder} is a folder without a package.json, so it is not a QNTX plugin folder`,
      `add ${file} with {"name": "<plugin>", "qntx-plugin": true} next to plugin.ts, or point at the plugin file itself`,
    );
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (err) {
    throw new QntxModuleError(`${file} is not valid JSON: ${messageOf(err)}`, `fix the JSON syntax of ${file}`);
  }
  const flag = typeof manifest === "object" && manifest !== null ? (manifest as Record<string, unknown>)["qntx-plugin"] : undefined;
  if (flag !== true) {
    const seen = flag === undefined ? "has no \"qntx-plugin\" field" : `has "qntx-plugin": ${JSON.stringify(flag)}`;
    throw new QntxModuleError(
      `${file} ${seen}, so ${folder} is not a QNTX plugin folder`,
      `add "qntx-plugin": true to ${file} (QNTX only loads folders that declare it), or point at the plugin file itself`,
    );
  }
}

/**
 * Resolves `pluginPath` (relative to `cwd`) to the module to load.
 * @throws QntxModuleError when nothing loadable is there.
 */
export function locateQntxPlugin(pluginPath: string, cwd: string = process.cwd()): LocatedPlugin {
  const path = resolve(cwd, pluginPath);
  const stats = statOf(path);
  if (!stats) {
    throw new QntxModuleError(`plugin path ${path} does not exist`, "give the plugin folder (with package.json and plugin.ts) or its .ts file; relative paths start at the current folder");
  }
  if (stats.isDirectory()) {
    checkPackageJson(path);
    const file = join(path, QNTX_ENTRY_FILE);
    if (!statOf(file)?.isFile()) {
      throw new QntxModuleError(`plugin folder ${path} has no ${QNTX_ENTRY_FILE}`, `create ${file} with \`export default { name, version, registerHTTP(mux) { … } }\` (QNTX's entry file name)`);
    }
    return { file, folder: path };
  }
  if (!MODULE_EXTENSIONS.includes(extname(path))) {
    throw new QntxModuleError(`${path} is not a TypeScript or JavaScript module`, `give a ${MODULE_EXTENSIONS.join("/")} file or a plugin folder`);
  }
  return { file: path, folder: undefined };
}
