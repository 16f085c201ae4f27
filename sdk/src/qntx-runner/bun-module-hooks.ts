/**
 * Module hooks (Node's `module.register`, run on the loader thread, registered after tsx's so
 * they see its answers) that give a plugin's ES modules what Bun gave them under QNTX:
 *
 * - **Top-level await in a folder without `"type": "module"`.** tsx compiles `.ts` there to
 *   CommonJS, where `await` at the top level cannot exist. Bun loads such a file as an ES
 *   module. Here a `.ts`/`.tsx` file tsx would make CommonJS is loaded as an ES module when
 *   esbuild (tsx's own) refuses it as CommonJS for its top-level await — the way Node's own
 *   syntax detection picks a format, so every file that loads today keeps its format.
 * - **`import.meta.dir`, `import.meta.file`, `import.meta.path`** (the folder, the file name,
 *   the full path; see bun-import-meta.ts) for every module loaded through here. (CommonJS
 *   reached by `require` never is: bun-compat.ts patches it on the main thread.)
 *
 * Only the plugin's own files: nothing under a `node_modules` folder is touched.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { withDefinedImportMeta, withImportMetaPrologue } from "./bun-import-meta.js";

interface ResolveContext {
  parentURL?: string | undefined;
  conditions: string[];
  importAttributes?: Record<string, string>;
}
interface ResolveResult {
  url: string;
  format?: string | null | undefined;
  shortCircuit?: boolean;
}
interface LoadContext {
  format?: string | null | undefined;
  conditions: string[];
  importAttributes?: Record<string, string>;
}
interface LoadResult {
  format: string;
  source?: string | ArrayBuffer | ArrayBufferView | null | undefined;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<ResolveResult>;
type NextLoad = (url: string, context?: LoadContext) => Promise<LoadResult>;

/** esbuild's answer when CommonJS output cannot hold the file (its wording, esbuild 0.2x). */
const TLA_IN_CJS = /Top-level await is currently not supported with the "cjs" output format/;
const TS_SOURCE = /\.(ts|tsx)$/;
const NODE_MODULES = /[\\/]node_modules[\\/]/;
const TSX_MARKER = "?tsx-";

interface Esbuild {
  transform(source: string, options: Record<string, unknown>): Promise<unknown>;
}
let esbuild: Esbuild | undefined;
/** Paths already checked: whether each needs ES module format. */
const needsModule = new Map<string, Promise<boolean>>();

/**
 * The plugin's own file behind a `file:` URL, or undefined for anything else. tsx marks a
 * CommonJS file an ES module imports with queries, one of them inside the path
 * (`later.ts%3Ftsx-commonjs-export-preparse=1?tsx-…`): the file is what comes before.
 */
export function ownFile(url: string): string | undefined {
  if (!url.startsWith("file:")) return undefined;
  let path = fileURLToPath(url);
  const marker = path.indexOf(TSX_MARKER);
  if (marker >= 0) path = path.slice(0, marker);
  return NODE_MODULES.test(path) ? undefined : path;
}

/**
 * Whether `source` can only be an ES module because of a top-level await. The esbuild tsx
 * compiles with is asked (resolved through tsx, whose dependency it is), so the answer is the
 * one tsx's CommonJS transform would give.
 */
export async function usesTopLevelAwait(source: string, path: string): Promise<boolean> {
  // Cheap first: no `await` anywhere, no top-level await.
  if (!source.includes("await")) return false;
  // (import.meta.resolve does not exist on the loader thread; require.resolve does.)
  esbuild ??= createRequire(createRequire(import.meta.url).resolve("tsx/package.json"))("esbuild") as Esbuild;
  try {
    await esbuild.transform(source, { loader: path.endsWith(".tsx") ? "tsx" : "ts", format: "cjs", sourcefile: path, logLevel: "silent" });
    return false;
  } catch (err) {
    // Any other error (a syntax error…) is left for tsx to report as it always has.
    return TLA_IN_CJS.test(err instanceof Error ? err.message : String(err));
  }
}

/** Resolves as before; a TypeScript file headed for CommonJS that has a top-level await becomes an ES module. */
export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): Promise<ResolveResult> {
  const resolved = await nextResolve(specifier, context);
  if (resolved.format !== "commonjs" && resolved.format !== "commonjs-typescript") return resolved;
  const path = ownFile(resolved.url);
  if (!path || !TS_SOURCE.test(path)) return resolved;
  let check = needsModule.get(path);
  if (!check) {
    check = usesTopLevelAwait(readFileSync(path, "utf8"), path).catch(() => false);
    needsModule.set(path, check);
  }
  // As an ES module it is the plain file: tsx's CommonJS markers would make tsx load it as one.
  return (await check) ? { ...resolved, url: pathToFileURL(path).href, format: "module" } : resolved;
}

function sourceText(source: LoadResult["source"]): string | undefined {
  if (source === undefined || source === null) return undefined;
  if (typeof source === "string") return source;
  if (ArrayBuffer.isView(source)) return Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString("utf8");
  return Buffer.from(source).toString("utf8");
}

/**
 * Loads as before; a module of the plugin that uses `import.meta` gets Bun's extras: an ES
 * module as a first statement, a CommonJS one (tsx's output for a CommonJS file an ES module
 * imports, which Node runs from this source) in its constant `import.meta` object.
 */
export async function load(url: string, context: LoadContext, nextLoad: NextLoad): Promise<LoadResult> {
  const loaded = await nextLoad(url, context);
  if (loaded.format !== "module" && loaded.format !== "commonjs") return loaded;
  const path = ownFile(url);
  const text = path === undefined ? undefined : sourceText(loaded.source);
  if (path === undefined || text === undefined) return loaded;
  if (loaded.format === "module") return text.includes("import.meta") ? { ...loaded, source: withImportMetaPrologue(text, path) } : loaded;
  return text.includes("define_import_meta_default") ? { ...loaded, source: withDefinedImportMeta(text, path) } : loaded;
}
