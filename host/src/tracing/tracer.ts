/**
 * The host's side of tracing: every request through the gateway and every job run is a span
 * of a W3C trace (taken from the request's `traceparent`, or started), and its context is what
 * the plugin is sent. Propagation alone needs no OpenTelemetry: {@link PropagatingTracer}
 * only makes the ids. With `[host] otlp_endpoint` set, server.ts loads otlp-tracer.ts (a
 * dynamic import: with it unset no OpenTelemetry module loads) and the same calls record real
 * spans and export them.
 */
import { childOf, newTrace, type TraceContext } from "@qntx/protocol";

/** What a span is to its trace: a request the host serves, a call it makes, a job it runs. */
export type SpanKind = "server" | "client" | "consumer";

/** A span that has started: its context goes to the next hop; `end` records it. */
export interface ActiveSpan {
  readonly context: TraceContext;
  /** Ends the span; `error` marks it failed with that message. Idempotent. */
  end(error?: string): void;
}

/** Starts spans; see the file comment. */
export interface HostTracer {
  /** A span under `parent` (a new trace when undefined), named and described by `attributes`. */
  start(name: string, kind: SpanKind, parent: TraceContext | undefined, attributes?: Readonly<Record<string, string | number>>): ActiveSpan;
  /** Sends what is still buffered and stops exporting (at host shutdown). */
  close(): Promise<void>;
}

const NO_END = (): void => undefined;

/** Makes span contexts and records nothing: tracing with export off. */
export class PropagatingTracer implements HostTracer {
  start(_name: string, _kind: SpanKind, parent: TraceContext | undefined): ActiveSpan {
    return { context: parent ? childOf(parent) : newTrace(), end: NO_END };
  }

  async close(): Promise<void> {}
}

/**
 * The host's tracer: exporting to `otlpEndpoint` when set (loads OpenTelemetry now), else
 * propagating only.
 */
export async function createTracer(otlpEndpoint: string | undefined, serviceName = "qntx-host"): Promise<HostTracer> {
  if (!otlpEndpoint) return new PropagatingTracer();
  const { OtlpTracer } = await import("./otlp-tracer.js");
  return OtlpTracer.create(otlpEndpoint, serviceName);
}
