/**
 * Wraps a built-in plugin so it fails the way a remote one does: every call is bounded by
 * its deadline (DEADLINE_EXCEEDED), honours its abort signal (CANCELLED), and a throw becomes
 * a PluginCallError (UNKNOWN) rather than an arbitrary exception. With this the gateway and
 * the registry need no special case for in-process plugins.
 */
import { status } from "@grpc/grpc-js";
import { PluginCallError, type CallOptions, type DomainPlugin, type WebSocketChannel, type WebSocketOpen } from "./domain-plugin.js";

type Method = (request: unknown, options: CallOptions) => Promise<unknown>;

/** Returns a DomainPlugin that calls `inner` under deadlines. */
export function inProcess(inner: DomainPlugin): DomainPlugin {
  const wrapped: Record<string, unknown> = {};
  for (const key of ["metadata", "health", "shutdown", "configSchema", "registerGlyphs", "commands"] as const) {
    const method = inner[key] as ((options: CallOptions) => Promise<unknown>) | undefined;
    if (method) wrapped[key] = (options: CallOptions) => bounded(() => method.call(inner, options), options);
  }
  for (const key of ["initialize", "handleHTTP", "executeJob", "executeCommand"] as const) {
    const method = inner[key] as Method | undefined;
    if (method) wrapped[key] = (request: unknown, options: CallOptions) => bounded(() => method.call(inner, request, options), options);
  }
  if (inner.handleWebSocket) wrapped.handleWebSocket = (open: WebSocketOpen) => guardedWebSocket(inner, open);
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

/**
 * A built-in's WebSocket session made to behave like a remote one: its frames arrive
 * asynchronously and in order (never re-entering the gateway from inside `send`), nothing is
 * delivered after the end or an abort, and a throw ends the session with UNKNOWN.
 */
function guardedWebSocket(inner: DomainPlugin, open: WebSocketOpen): WebSocketChannel {
  if (open.signal.aborted) throw new PluginCallError(status.CANCELLED, "session cancelled before it started");
  let ended = false;
  const live = (): boolean => !ended && !open.signal.aborted;
  const end = (error?: PluginCallError): void => {
    queueMicrotask(() => {
      if (!live()) return;
      ended = true;
      open.onEnd(error);
    });
  };
  const asError = (error: unknown): PluginCallError =>
    error instanceof PluginCallError ? error : new PluginCallError(status.UNKNOWN, error instanceof Error ? error.message : String(error), { cause: error });
  let channel: WebSocketChannel;
  try {
    channel = inner.handleWebSocket!({
      headers: open.headers,
      signal: open.signal,
      onFrame: (frame) => queueMicrotask(() => {
        if (live()) open.onFrame(frame);
      }),
      onEnd: end,
    });
  } catch (error) {
    throw asError(error);
  }
  const guard = <T>(fallback: T, call: () => T): T => {
    if (!live()) return fallback;
    try {
      return call();
    } catch (error) {
      end(asError(error));
      return fallback;
    }
  };
  return {
    send: (frame) => guard(true, () => channel.send(frame)),
    end: () => guard(undefined, () => channel.end()),
    pause: () => guard(undefined, () => channel.pause?.()),
    resume: () => guard(undefined, () => channel.resume?.()),
  };
}
