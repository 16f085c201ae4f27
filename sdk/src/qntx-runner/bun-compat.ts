/**
 * What QNTX TypeScript plugins got from Bun and use: `import.meta.dir` (the module's folder),
 * `import.meta.file` (its file name) and `import.meta.path` (its full path) — QNTX's own
 * canvas-renderer finds its root with `import.meta.dir` — and top-level `await` in a
 * `plugin.ts` whose package.json has no `"type": "module"`.
 *
 * Modules loaded through the loader hooks (bun-module-hooks.ts) get both there. A CommonJS file
 * reached by `require` (from another CommonJS file) never passes the hooks: tsx compiles it
 * with `import.meta` replaced by a constant object, to which the three are added here, as
 * Node compiles the code (bun-import-meta.ts).
 */
import { createRequire, register } from "node:module";
import { withDefinedImportMeta } from "./bun-import-meta.js";

const NODE_MODULES = /[\\/]node_modules[\\/]/;

interface ModuleInternals {
  prototype: { _compile(this: unknown, content: string, filename: string): unknown };
}

let installed = false;

/**
 * Registers the ES module hooks and patches CommonJS compilation, once. Call it after tsx is
 * registered: the hooks must see tsx's format decisions and compiled output.
 */
export function installBunCompat(): void {
  if (installed) return;
  installed = true;
  register(new URL("./bun-module-hooks.js", import.meta.url), { parentURL: import.meta.url });
  const Module = createRequire(import.meta.url)("node:module") as ModuleInternals;
  const compile = Module.prototype._compile;
  Module.prototype._compile = function compileWithBunImportMeta(this: unknown, content: string, filename: string) {
    const patched = typeof content === "string" && !NODE_MODULES.test(filename) && content.includes("define_import_meta_default") ? withDefinedImportMeta(content, filename) : content;
    return compile.call(this, patched, filename);
  };
}
