/**
 * Installs the `@qntx/sdk` fallback for plugin files, in both module systems: an ESM resolve
 * hook (see sdk-resolve-hooks.ts) and a wrapper around CommonJS resolution, which tsx uses for
 * `.ts` files in a folder whose package.json has no `"type": "module"` (QNTX plugin folders
 * usually have none: Bun did not need it).
 */
import { createRequire, register } from "node:module";
import { fileURLToPath } from "node:url";
import { isSdkSpecifier, type SdkResolveData } from "./sdk-resolve-hooks.js";

type ResolveFilename = (request: string, parent: unknown, isMain: boolean, options?: unknown) => string;
interface ModuleInternals {
  _resolveFilename: ResolveFilename;
  _nodeModulePaths(from: string): string[];
}

let installed = false;

/**
 * Makes `@qntx/sdk` (and its subpaths) resolvable from any plugin file, falling back to the
 * SDK this runner belongs to when the plugin's folder has none. Idempotent.
 */
export function installSdkFallback(): void {
  if (installed) return;
  installed = true;
  // A file of this package: `@qntx/sdk` resolved from here is the package itself.
  const fallbackParentURL = import.meta.url;
  const data: SdkResolveData = { fallbackParentURL };
  register(new URL("./sdk-resolve-hooks.js", import.meta.url), { parentURL: import.meta.url, data });

  const Module = createRequire(import.meta.url)("node:module") as ModuleInternals;
  const fallbackFile = fileURLToPath(fallbackParentURL);
  // What CommonJS resolution needs of a parent: its file (for the package scope) and search paths.
  const fallbackParent = { id: fallbackFile, filename: fallbackFile, paths: Module._nodeModulePaths(fallbackFile) };
  const original = Module._resolveFilename;
  Module._resolveFilename = function resolveWithSdkFallback(this: unknown, request, parent, isMain, options) {
    try {
      return original.call(this, request, parent, isMain, options);
    } catch (err) {
      if (!isSdkSpecifier(request) || (err as { code?: unknown }).code !== "MODULE_NOT_FOUND") throw err;
      return original.call(this, request, fallbackParent, isMain, options);
    }
  };
}
