/**
 * Module resolution hooks (Node's `module.register`, run on the loader thread) that let a
 * plugin file `import … from "@qntx/sdk"` without installing it: when the specifier cannot
 * be resolved from the plugin's folder, it is resolved again from the runner's own file,
 * which finds the SDK the runner belongs to (a package may import itself by name). A plugin
 * that has its own `@qntx/sdk` installed keeps it: the fallback only runs after a miss.
 */

/** What {@link initialize} receives from `module.register`. */
export interface SdkResolveData {
  /** URL of a file inside the runner's SDK package; resolution is retried from there. */
  fallbackParentURL: string;
}

interface ResolveContext {
  parentURL?: string | undefined;
  conditions: string[];
  importAttributes?: Record<string, string>;
}
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<unknown>;

let fallbackParentURL = "";

/** True for `@qntx/sdk` and its subpaths (`@qntx/sdk/testing`, …). */
export function isSdkSpecifier(specifier: string): boolean {
  return specifier === "@qntx/sdk" || specifier.startsWith("@qntx/sdk/");
}

/** Called once by `module.register` with the runner's data. */
export function initialize(data: SdkResolveData | undefined): void {
  fallbackParentURL = data?.fallbackParentURL ?? "";
}

/** Resolves normally; on a miss for `@qntx/sdk…`, resolves it from the runner's SDK instead. */
export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): Promise<unknown> {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (!fallbackParentURL || !isSdkSpecifier(specifier) || code !== "ERR_MODULE_NOT_FOUND") throw err;
    return nextResolve(specifier, { ...context, parentURL: fallbackParentURL });
  }
}
