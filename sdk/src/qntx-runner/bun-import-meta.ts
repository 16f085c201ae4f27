/**
 * How a plugin module gets Bun's `import.meta.dir` (its folder), `import.meta.file` (its file
 * name) and `import.meta.path` (its full path), which QNTX's TypeScript plugins use (QNTX's
 * canvas-renderer finds its root with `import.meta.dir`). Text edits of compiled code that
 * keep its source map true (mapped-code.ts); the hooks that apply them are in
 * bun-module-hooks.ts (ES modules, and CommonJS an ES module imports) and bun-compat.ts
 * (CommonJS reached by `require`).
 */
import { basename, dirname } from "node:path";
import { insertIntoMappedCode } from "./mapped-code.js";

/**
 * esbuild's variable for a `define`d `import.meta` (a digit is appended when the name is
 * taken), not yet given the extras (code can pass both the loader hook and `_compile`).
 */
const DEFINED_IMPORT_META = /\bdefine_import_meta_default\d*\s*=\s*\{(?!dir:)/;
const FIRST_LINE = /^.*(\r?\n|$)/;

function extras(path: string): string {
  return `dir:${JSON.stringify(dirname(path))},file:${JSON.stringify(basename(path))},path:${JSON.stringify(path)}`;
}

/** An ES module's code with a first statement (after a `#!` line) adding the three to `import.meta`. */
export function withImportMetaPrologue(code: string, path: string): string {
  const at = code.startsWith("#!") ? FIRST_LINE.exec(code)![0].length : 0;
  return insertIntoMappedCode(code, at, `Object.assign(import.meta,{${extras(path)}});`);
}

/**
 * CommonJS code tsx made of `path` with the three added to its `import.meta` object: CommonJS
 * has no `import.meta`, and tsx replaces it with a constant `{dirname, filename, url}`
 * (`define_import_meta_default`). Code without one is returned as is.
 */
export function withDefinedImportMeta(code: string, path: string): string {
  const found = DEFINED_IMPORT_META.exec(code);
  return found ? insertIntoMappedCode(code, found.index + found[0].length, `${extras(path)},`) : code;
}
