/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` and `tracestate`
 * values the host takes from an incoming request (or starts), hands to plugins in HandleHTTP's
 * headers and in the gRPC metadata of every call, stores with a job and sends with its
 * ExecuteJob; the SDK carries them back on its calls to the host's services. Propagation needs
 * no OpenTelemetry: this file parses, makes and passes the two strings. Export (spans sent to
 * a collector) is the host's opt-in (`[host] otlp_endpoint`).
 */
import { randomFillSync } from "node:crypto";

/** The header and gRPC metadata key of the parent (W3C: lower-case on gRPC, any case in HTTP). */
export const TRACEPARENT = "traceparent";
/** Vendor-specific state that travels with `traceparent`, passed on unchanged. */
export const TRACESTATE = "tracestate";

/** One position in a trace: what a `traceparent` says, plus the `tracestate` beside it. */
export interface TraceContext {
  /** 32 lower-case hex digits, never all zero. */
  readonly traceId: string;
  /** 16 lower-case hex digits, never all zero: the span that is the parent of the next hop. */
  readonly spanId: string;
  /** Trace flags, two hex digits (`01` = sampled). */
  readonly flags: string;
  /** The `tracestate` value, "" when none. */
  readonly state: string;
}

const TRACEPARENT_FORMAT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/**
 * The context of a `traceparent` value, or undefined when it is absent or invalid (W3C §4.3:
 * an invalid parent is ignored and a new trace starts). Version `ff` is invalid; a later
 * version's extra fields are ignored, as the spec asks.
 */
export function parseTraceparent(value: string | undefined, state = ""): TraceContext | undefined {
  if (!value) return undefined;
  const match = TRACEPARENT_FORMAT.exec(value.trim().toLowerCase());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId: traceId!, spanId: spanId!, flags: flags!, state: state.length > 512 ? "" : state };
}

/** The `traceparent` value of a context (version 00). */
export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.flags}`;
}

/**
 * Random ids come from a pooled buffer: one `randomFillSync` per 256 ids rather than one
 * `randomBytes` per request (the proxy makes one span id per request).
 */
const POOL_IDS = 256;
const pool = Buffer.alloc(POOL_IDS * 8);
let poolNext = POOL_IDS;

function randomHex(bytes: 8 | 16): string {
  let hex = "";
  for (let i = 0; i < bytes; i += 8) {
    if (poolNext === POOL_IDS) {
      randomFillSync(pool);
      poolNext = 0;
    }
    hex += pool.toString("hex", poolNext * 8, ++poolNext * 8);
  }
  // All zero is invalid; with 64 random bits it does not happen, but the spec forbids it.
  return /^0+$/.test(hex) ? randomHex(bytes) : hex;
}

/** A new span id (16 hex digits). */
export function newSpanId(): string {
  return randomHex(8);
}

/** A new trace, sampled: the host starts one when a request comes without a valid parent. */
export function newTrace(): TraceContext {
  return { traceId: randomHex(16), spanId: randomHex(8), flags: "01", state: "" };
}

/** The next hop's context: same trace, flags and state, a new span id (a child of `parent`). */
export function childOf(parent: TraceContext): TraceContext {
  return { traceId: parent.traceId, spanId: newSpanId(), flags: parent.flags, state: parent.state };
}

/** The context an incoming request carries, or undefined (`traceparent`, `tracestate` as read by the caller). */
export function traceFromHeaders(traceparent: string | undefined, tracestate: string | undefined): TraceContext | undefined {
  return parseTraceparent(traceparent, tracestate ?? "");
}

/** The trace a gRPC call carries in its metadata (`traceparent`, `tracestate`), or undefined. */
export function traceOfMetadata(metadata: { get(key: string): Array<string | Buffer> }): TraceContext | undefined {
  const parent = metadata.get(TRACEPARENT)[0];
  if (typeof parent !== "string") return undefined;
  const state = metadata.get(TRACESTATE)[0];
  return parseTraceparent(parent, typeof state === "string" ? state : "");
}
