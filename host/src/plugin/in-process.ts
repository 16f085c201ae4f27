/**
 * Wraps a built-in plugin so it fails the way a remote one does: every call is bounded by
 * its deadline (DEADLINE_EXCEEDED), honours its abort signal (CANCELLED), and a throw becomes
 * a PluginCallError (UNKNOWN) rather than an arbitrary exception. With this the gateway and
 * the registry need no special case for in-process plugins.
 */
import { status } from "@grpc/grpc-js";
import { PluginCallError, type CallOptions, type DomainPlugin } from "./domain-plugin.js";

type Method = (request: unknown, options: CallOptions) => Promise<unknown>;

/** Returns a DomainPlugin that calls `inner` under deadlines. */
export function inProcess(inner: DomainPlugin): DomainPlugin {
  const wrapped: Record<string, unknown> = {};
  for (const key of ["metadata", "health", "shutdown", "configSchema"] as const) {
    const method = inner[key] as ((options: CallOptions) => Promise<unknown>) | undefined;
    if (method) wrapped[key] = (options: CallOptions) => bounded(() => method.call(inner, options), options);
  }
  for (const key of ["initialize", "handleHTTP", "executeJob"] as const) {
    const method = inner[key] as Method | undefined;
    if (method) wrapped[key] = (request: unknown, options: CallOptions) => bounded(() => method.call(inner, request, options), options);
  }
  wrapped.close = () => inner.close?.();
  return wrapped as unknown as DomainPlugin;
}

function bounded<T>(call: () => Promise<T>, options: CallOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const remaining = options.deadline - Date.now();
    if (remaining <= 0) return reject(new PluginCallError(status.DEADLINE_EXCEEDED, "deadline exceeded"));
    if (options.signal?.aborted) return reject(new PluginCallError(status.CANCELLED, "cancelled"));
    const timer = setTimeout(() => reject(new PluginCallError(status.DEADLINE_EXCEEDED, "deadline exceeded")), remaining);
    const onAbort = (): void => reject(new PluginCallError(status.CANCELLED, "cancelled"));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    call()
      .then(resolve, (error: unknown) => {
        reject(error instanceof PluginCallError ? error : new PluginCallError(status.UNKNOWN, error instanceof Error ? error.message : String(error), { cause: error }));
      })
      .finally(() => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
      });
  });
}
