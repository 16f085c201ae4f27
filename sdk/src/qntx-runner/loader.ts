/**
 * Loads a plugin module and tells what it is: an SDK plugin (`definePlugin(...)` as default
 * export), a QNTX-format object, or an SDK plugin that serves itself (`serve(...)` at top level).
 * TypeScript goes through tsx (esbuild), so the module's own relative `.ts` imports, its
 * node_modules and, with the fallback, `@qntx/sdk` all work under plain Node 20; what QNTX's
 * plugins took from Bun (`import.meta.dir`, top-level await anywhere) comes from bun-compat.ts.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { definePlugin, isPluginDefinition, type PluginDefinition } from "../define.js";
import type { PluginDef } from "../types.js";
import { installBunCompat } from "./bun-compat.js";
import { QntxModuleError, messageOf } from "./errors.js";
import { locateQntxPlugin, type LocatedPlugin } from "./locate.js";
import { installSdkFallback } from "./sdk-fallback.js";
import type { QntxModule } from "./types.js";

/** What a loaded module turned out to be. */
export type LoadedPlugin =
  | { kind: "definition"; definition: PluginDefinition; file: string }
  | { kind: "qntx"; module: QntxModule; file: string }
  /** It called the SDK's `serve()` while loading: it binds and prints its port line itself. */
  | { kind: "self-served"; file: string };

const TS_FILE = /\.(c|m)?tsx?$/;
let tsxReady: Promise<void> | undefined;

/**
 * Registers tsx's ESM and CommonJS hooks (once). Both are needed: tsx treats a `.ts` file in
 * a folder whose package.json lacks `"type": "module"` as CommonJS.
 */
function enableTypeScript(tsconfig: string | undefined): Promise<void> {
  return (tsxReady ??= (async () => {
    const [esm, cjs] = await Promise.all([import("tsx/esm/api"), import("tsx/cjs/api")]);
    esm.register(tsconfig ? { tsconfig } : {});
    cjs.register();
  })());
}

/**
 * The plugin folder's tsconfig.json (its `paths`, JSX settings…), published in
 * `TSX_TSCONFIG_PATH`, which tsx's CommonJS side reads. It must be set before the first
 * `module.register`: the loader thread takes a copy of the environment when it starts.
 * Without one, tsx looks for a tsconfig.json from the current folder.
 */
function pluginTsconfig(located: LocatedPlugin): string | undefined {
  const tsconfig = located.folder ? join(located.folder, "tsconfig.json") : undefined;
  if (!tsconfig || !existsSync(tsconfig)) return undefined;
  process.env.TSX_TSCONFIG_PATH ??= tsconfig;
  return process.env.TSX_TSCONFIG_PATH;
}

/** A hint for an import failure, from its code. */
function importHint(err: unknown, located: LocatedPlugin): string {
  const code = (err as { code?: unknown } | null)?.code;
  const where = located.folder ?? "the plugin's folder";
  if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") return `install the plugin's dependencies in ${where} (npm install), or fix the import path`;
  // A file with top-level await loads as an ES module, but not when a CommonJS file (one
  // without it, in a folder without "type": "module") imports it: require() cannot wait.
  if (/Top-level await is currently not supported with the "cjs" output format/.test(messageOf(err))) {
    return `add "type": "module" to ${located.folder ? join(located.folder, "package.json") : "the plugin's package.json"}: a file with top-level await imported from a CommonJS file needs every file to be an ES module`;
  }
  if (/Transform failed|SyntaxError|Expected|Unexpected/.test(messageOf(err))) return "fix the syntax error at the file:line:column shown above";
  return `the error comes from the module's own top-level code; run \`node --import tsx ${located.file}\` to see it alone`;
}

/**
 * The default export and the named exports of a module namespace. `import()` of a CommonJS
 * build (tsx compiles `.ts` in a folder without `"type": "module"` to CommonJS) gives
 * `{ default: module.exports }`, where `module.exports` carries `__esModule` and the real
 * `default` only when the source had one.
 */
function exportsOf(namespace: Record<string, unknown>): { value: unknown; named: Record<string, unknown> } {
  const value = namespace.default;
  if (typeof value === "object" && value !== null && (value as { __esModule?: unknown }).__esModule === true) {
    const { default: inner, __esModule: _flag, ...named } = value as Record<string, unknown>;
    return { value: inner, named };
  }
  const { default: _default, ...named } = namespace;
  return { value, named };
}

/** Turns the module's exports into a {@link LoadedPlugin}, or throws with a hint. */
export function classifyExports(namespace: Record<string, unknown>, file: string, servedItself: boolean): LoadedPlugin {
  const { value, named } = exportsOf(namespace);
  if (value === undefined || value === null) {
    // A file that called serve() already serves, whatever it also exports by name.
    if (servedItself) return { kind: "self-served", file };
    const definitions = Object.values(named).filter(isPluginDefinition);
    if (definitions.length === 1) return { kind: "definition", definition: definitions[0]!, file };
    const exported = Object.keys(named);
    throw new QntxModuleError(
      `${file} has no default export${exported.length > 0 ? ` (it exports: ${exported.join(", ")})` : ""}`,
      "end the file with `export default { name: \"my-plugin\", version: \"0.1.0\", registerHTTP(mux) { … } }` (QNTX format) or `export default definePlugin({ … })` (SDK)",
    );
  }
  // `serve(plugin)` and `export default plugin` in one file: it already serves; a second server would be one too many.
  if (isPluginDefinition(value)) return servedItself ? { kind: "self-served", file } : { kind: "definition", definition: value, file };
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new QntxModuleError(
      `the default export of ${file} is ${Array.isArray(value) ? "an array" : `a ${typeof value}`}, not a plugin object`,
      "export the plugin object itself: `export default { name, version, init(req) { … }, registerHTTP(mux) { … } }`",
    );
  }
  const record = value as Record<string, unknown>;
  // `export default { metadata: {…}, routes: {…} }`: an SDK definition not wrapped in definePlugin.
  if (typeof record.metadata === "object" && record.metadata !== null && record.name === undefined) {
    try {
      return { kind: "definition", definition: definePlugin(record as unknown as PluginDef), file };
    } catch (err) {
      throw new QntxModuleError(`the SDK plugin definition exported by ${file} is invalid: ${messageOf(err)}`, "fix the definition (see sdk/README.md)", { cause: err });
    }
  }
  if (typeof record.name !== "string" || record.name === "") {
    throw new QntxModuleError(
      `the default export of ${file} has no \`name\` (keys: ${Object.keys(record).join(", ") || "none"})`,
      "a QNTX plugin object needs a name: `export default { name: \"my-plugin\", version: \"0.1.0\", … }`; the host's [plugins.<name>] table must match it",
    );
  }
  return { kind: "qntx", module: record as QntxModule, file };
}

/**
 * Locates and imports the plugin at `pluginPath` (a QNTX plugin folder or a module file).
 * @throws QntxModuleError naming the file, with a hint, for every way it can fail to load.
 */
export async function loadPlugin(pluginPath: string, cwd: string = process.cwd()): Promise<LoadedPlugin> {
  const located = locateQntxPlugin(pluginPath, cwd);
  const tsconfig = pluginTsconfig(located);
  installSdkFallback();
  if (TS_FILE.test(located.file)) await enableTypeScript(tsconfig);
  // After tsx: its hooks decide formats and compile, these adjust what they produce.
  installBunCompat();
  // The SDK's serve() adds SIGTERM and SIGINT handlers synchronously when called: new ones
  // after the import mean the module serves itself and owns the process contract.
  const signalHandlers = () => Math.min(process.listenerCount("SIGTERM"), process.listenerCount("SIGINT"));
  const handlersBefore = signalHandlers();
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(located.file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new QntxModuleError(`cannot load ${located.file}: ${messageOf(err)}`, importHint(err, located), { cause: err });
  }
  return classifyExports(namespace, located.file, signalHandlers() > handlersBefore);
}
