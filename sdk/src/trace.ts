/**
 * The W3C trace a plugin's work belongs to. The host sends `traceparent` (and `tracestate`) in
 * the gRPC metadata of HandleHTTP and ExecuteJob (docs/tracing.md); the SDK runs the handler
 * inside that trace (an AsyncLocalStorage), exposes it as `ctx.trace`, and its host clients
 * send it on every call back to the host's services made while the handler runs — so a job a
 * route enqueues joins the route's trace, with nothing passed by hand.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { traceOfMetadata, type TraceContext } from "@qntx/protocol";

const storage = new AsyncLocalStorage<TraceContext>();

/** The trace of the handler running now, or undefined (the host sent none, or outside a handler). */
export function currentTrace(): TraceContext | undefined {
  return storage.getStore();
}

/**
 * Runs `work` inside the trace a call's metadata carries (as is, when it carries none). The
 * storage is entered only for calls that carry a trace.
 */
export function inCallTrace<T>(metadata: { get(key: string): Array<string | Buffer> }, work: () => T): T {
  const trace = traceOfMetadata(metadata);
  return trace ? storage.run(trace, work) : work();
}

export type { TraceContext };
