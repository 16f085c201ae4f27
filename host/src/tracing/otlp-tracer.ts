/**
 * Spans recorded with OpenTelemetry and exported over OTLP/HTTP (JSON) to `[host]
 * otlp_endpoint`; loaded only when that is set (tracer.ts imports this file dynamically).
 * Versions pinned to ones that run on Node 20 (the newest need Node 22): api 1.9, sdk-trace-base
 * and resources 2.12, exporter-trace-otlp-http 0.223.
 *
 * The span's parent comes from our own TraceContext (the request's `traceparent`, a stored
 * job's), not from OpenTelemetry's context propagation: the host never installs a global
 * context manager or instrumentation, so nothing else in the process changes.
 */
import { ROOT_CONTEXT, SpanKind as OtelKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { TraceContext } from "@qntx/protocol";
import { HOST_VERSION } from "../version.js";
import type { ActiveSpan, HostTracer, SpanKind } from "./tracer.js";

const KINDS: Record<SpanKind, OtelKind> = { server: OtelKind.SERVER, client: OtelKind.CLIENT, consumer: OtelKind.CONSUMER };
/** How long finished spans wait to be sent together. */
const EXPORT_DELAY_MS = 1000;

/** See the file comment. */
export class OtlpTracer implements HostTracer {
  private constructor(private readonly provider: BasicTracerProvider, private readonly tracer: Tracer) {}

  /** A tracer exporting to `endpoint` (the collector's base URL; spans go to `<endpoint>/v1/traces`). */
  static create(endpoint: string, serviceName: string): OtlpTracer {
    const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, "")}/v1/traces` });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": serviceName, "service.version": HOST_VERSION }),
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: EXPORT_DELAY_MS })],
    });
    return new OtlpTracer(provider, provider.getTracer("qntx-host", HOST_VERSION));
  }

  start(name: string, kind: SpanKind, parent: TraceContext | undefined, attributes: Readonly<Record<string, string | number>> = {}): ActiveSpan {
    const parentContext = parent
      ? trace.setSpanContext(ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.spanId, traceFlags: Number.parseInt(parent.flags, 16), isRemote: true })
      : ROOT_CONTEXT;
    const span = this.tracer.startSpan(name, { kind: KINDS[kind], attributes }, parentContext);
    const ids = span.spanContext();
    const context: TraceContext = { traceId: ids.traceId, spanId: ids.spanId, flags: ids.traceFlags.toString(16).padStart(2, "0"), state: parent?.state ?? "" };
    let ended = false;
    return {
      context,
      end: (error) => {
        if (ended) return;
        ended = true;
        if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
        span.end();
      },
    };
  }

  async close(): Promise<void> {
    await this.provider.shutdown();
  }
}
