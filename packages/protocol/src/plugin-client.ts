/**
 * PluginClient: the one client of `DomainPluginService`. The host's ExternalDomainProxy,
 * `qntx plugin check`, the SDK's testing helpers and the host's tests all call plugins through
 * it, so a call behaves the same everywhere:
 *
 * - one long-lived channel per client (never one per call), with the shared channel options;
 * - a deadline on every call, required by the type (`Infinity` says "none" out loud, which only
 *   a WebSocket session, as long as its browser stays, should say);
 * - an abort signal that cancels the call;
 * - every failure a {@link PluginCallError} with the gRPC status, its details and the method;
 * - HandleWebSocket on the exact-timestamp codec (ws-codec.ts), not the generated one.
 *
 * It is on the host's hot path (every proxied request, every job): a call allocates what a
 * bare grpc-js call with a deadline and a signal needs, and nothing more.
 */
import * as grpc from "@grpc/grpc-js";
import { grpcOptions } from "./channel.js";
import { PluginCallError } from "./errors.js";
import { TRACEPARENT, TRACESTATE, formatTraceparent, type TraceContext } from "./trace-context.js";
import {
  DomainPluginServiceClient,
  DomainPluginServiceService,
  type CommandsResponse,
  type ConfigSchemaResponse,
  type Empty,
  type ExecuteCommandRequest,
  type ExecuteCommandResponse,
  type ExecuteJobRequest,
  type ExecuteJobResponse,
  type GlyphDefResponse,
  type HTTPRequest,
  type HTTPResponse,
  type HealthResponse,
  type InitializeRequest,
  type InitializeResponse,
  type MetadataResponse,
  type ParseAxQueryRequest,
  type ParseAxQueryResponse,
} from "./gen/domain.js";
import { decodeWebSocketFrame, encodeWebSocketFrame, type WebSocketFrame } from "./ws-codec.js";

/** Options of one call into a plugin. */
export interface PluginCallOptions {
  /** Absolute deadline (epoch ms). A call that passes it fails with DEADLINE_EXCEEDED. */
  readonly deadline: number;
  /** Aborts the call early (for example when the browser disconnects): it fails with CANCELLED. */
  readonly signal?: AbortSignal;
  /**
   * The trace this call belongs to: sent as `traceparent` (and `tracestate`) call metadata, so
   * the plugin's side joins the host's trace (docs/tracing.md).
   */
  readonly trace?: TraceContext;
}

/**
 * Told of every finished unary call: the method (`HandleHTTP`), its gRPC status code and how
 * long it took in seconds. The host's metrics count calls to each plugin through it.
 */
export type PluginCallObserver = (method: string, code: number, seconds: number) => void;

/** Options of a HandleWebSocket stream: a call's, plus the call metadata it opens with. */
export interface PluginStreamOptions extends PluginCallOptions {
  /** Sent with the call (QNTX sends a session's query parameters this way). */
  readonly metadata?: grpc.Metadata;
}

/** How the channel to a plugin is made; plaintext with the shared options when not given. */
export interface PluginChannelOptions {
  /** Largest message either way (default `DEFAULT_MAX_MESSAGE_BYTES`). */
  readonly maxMessageBytes?: number;
  /** TLS credentials (a dialed plugin's `tls`, or auto-mTLS pinning); default plaintext. */
  readonly credentials?: grpc.ChannelCredentials;
  /** Added to the shared channel options (e.g. `grpc.ssl_target_name_override`). */
  readonly channelOptions?: grpc.ChannelOptions;
  /** Told of every finished unary call (metrics); nothing is timed without one. */
  readonly observer?: PluginCallObserver;
}

/** A HandleWebSocket call: frames both ways, with int64 timestamps kept exact (`bigint`). */
export type WebSocketStream = grpc.ClientDuplexStream<WebSocketFrame, WebSocketFrame>;

/** A unary method of the generated client, in its callback form. */
type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (error: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;

const EMPTY: Empty = {};
/** `/protocol.DomainPluginService/HandleWebSocket`. */
const HANDLE_WEBSOCKET_PATH = DomainPluginServiceService.handleWebSocket.path;

/** gRPC metadata keys a query parameter may not take (reserved by HTTP/2 or gRPC). */
const RESERVED_METADATA = /^(grpc-|:)|^(content-type|te|user-agent|host|connection|authorization)$|-bin$/;

/**
 * A WebSocket session's query parameters as call metadata, as QNTX sends them (every value of
 * a repeated key); names and values gRPC would refuse are left out, so they travel only in the
 * CONNECT frame's `query`.
 */
export function queryMetadata(query: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of new URLSearchParams(query)) {
    const name = key.toLowerCase();
    if (!/^[0-9a-z_.-]+$/.test(name) || RESERVED_METADATA.test(name) || !/^[\x20-\x7e]*$/.test(value)) continue;
    metadata.add(name, value);
  }
  return metadata;
}

/**
 * The error of a finished call of `method`, or undefined when its status is OK: from a unary
 * call's ServiceError, or a stream's `status` event (which carries no error object). The
 * message is the status's details, else the error's message, else the status's name.
 */
export function callErrorOf(status: { readonly code: number; readonly details?: string; readonly message?: string }, method: string, cause?: unknown): PluginCallError | undefined {
  if (status.code === grpc.status.OK) return undefined;
  const message = status.details || status.message || grpc.status[status.code] || "call failed";
  return new PluginCallError(status.code, message, { method, details: status.details ?? "", cause });
}

/** The metadata of one call: empty, or the trace's `traceparent` and `tracestate`. */
export function callMetadata(trace: TraceContext | undefined, metadata = new grpc.Metadata()): grpc.Metadata {
  if (trace) {
    metadata.set(TRACEPARENT, formatTraceparent(trace));
    if (trace.state) metadata.set(TRACESTATE, trace.state);
  }
  return metadata;
}

/** Calls one plugin at `address` (`host:port` or `unix:///path`). */
export class PluginClient {
  readonly address: string;
  private readonly client: DomainPluginServiceClient;
  private readonly observer: PluginCallObserver | undefined;

  constructor(address: string, options: PluginChannelOptions = {}) {
    this.address = address;
    this.observer = options.observer;
    this.client = new DomainPluginServiceClient(
      address,
      options.credentials ?? grpc.credentials.createInsecure(),
      options.channelOptions ? { ...grpcOptions(options.maxMessageBytes), ...options.channelOptions } : grpcOptions(options.maxMessageBytes),
    );
  }

  /** Name, version and the `qntx_version` range the plugin needs. */
  metadata(options: PluginCallOptions): Promise<MetadataResponse> {
    return this.unary(this.client.metadata, "Metadata", EMPTY, options);
  }

  /** Hands over services and config; the answer announces handlers, schedules, routes. */
  initialize(request: InitializeRequest, options: PluginCallOptions): Promise<InitializeResponse> {
    return this.unary(this.client.initialize, "Initialize", request, options);
  }

  /** One HTTP request, its path relative to `/api/<name>` (query kept). */
  handleHTTP(request: HTTPRequest, options: PluginCallOptions): Promise<HTTPResponse> {
    return this.unary(this.client.handleHttp, "HandleHTTP", request, options);
  }

  /** The plugin's health. */
  health(options: PluginCallOptions): Promise<HealthResponse> {
    return this.unary(this.client.health, "Health", EMPTY, options);
  }

  /** Asks the plugin to release its resources (it may exit after answering). */
  shutdown(options: PluginCallOptions): Promise<Empty> {
    return this.unary(this.client.shutdown, "Shutdown", EMPTY, options);
  }

  /** The plugin's config keys (UNIMPLEMENTED: no schema). */
  configSchema(options: PluginCallOptions): Promise<ConfigSchemaResponse> {
    return this.unary(this.client.configSchema, "ConfigSchema", EMPTY, options);
  }

  /** The glyphs (canvas panels) the plugin offers its UI. */
  registerGlyphs(options: PluginCallOptions): Promise<GlyphDefResponse> {
    return this.unary(this.client.registerGlyphs, "RegisterGlyphs", EMPTY, options);
  }

  /** Runs one job of a handler the plugin announced. */
  executeJob(request: ExecuteJobRequest, options: PluginCallOptions): Promise<ExecuteJobResponse> {
    return this.unary(this.client.executeJob, "ExecuteJob", request, options);
  }

  /** Parses an Ax query (QNTX's; this host never calls it). */
  parseAxQuery(request: ParseAxQueryRequest, options: PluginCallOptions): Promise<ParseAxQueryResponse> {
    return this.unary(this.client.parseAxQuery, "ParseAxQuery", request, options);
  }

  /** The plugin's CLI commands (this host's addition: a QNTX plugin answers UNIMPLEMENTED). */
  commands(options: PluginCallOptions): Promise<CommandsResponse> {
    return this.unary(this.client.commands, "Commands", EMPTY, options);
  }

  /** Runs one CLI command under the call's deadline. */
  executeCommand(request: ExecuteCommandRequest, options: PluginCallOptions): Promise<ExecuteCommandResponse> {
    return this.unary(this.client.executeCommand, "ExecuteCommand", request, options);
  }

  /**
   * Opens a HandleWebSocket stream. Nothing is sent yet: the caller writes CONNECT first. The
   * stream ends with a `status` event ({@link callErrorOf} turns a failed one into a
   * PluginCallError); aborting `options.signal` cancels it. Throws a PluginCallError when the
   * signal is already aborted (CANCELLED) or the client is closed (UNAVAILABLE).
   */
  handleWebSocket(options: PluginStreamOptions): WebSocketStream {
    const signal = options.signal;
    if (signal?.aborted) throw new PluginCallError(grpc.status.CANCELLED, "session cancelled before it started", { method: "HandleWebSocket" });
    let call: WebSocketStream;
    try {
      call = this.client.makeBidiStreamRequest<WebSocketFrame, WebSocketFrame>(
        HANDLE_WEBSOCKET_PATH, encodeWebSocketFrame, decodeWebSocketFrame, callMetadata(options.trace, options.metadata), { deadline: options.deadline },
      );
    } catch (error) {
      // A closed channel, as for unary calls.
      throw new PluginCallError(grpc.status.UNAVAILABLE, (error as Error).message, { method: "HandleWebSocket", cause: error });
    }
    if (signal) {
      const onAbort = (): void => call.cancel();
      signal.addEventListener("abort", onAbort, { once: true });
      call.once("status", () => signal.removeEventListener("abort", onAbort));
    }
    return call;
  }

  /**
   * A generic grpc-js client on this plugin's channel, for the other services a plugin may serve
   * on the same port (a provider's LLMService, …: the host routes calls to them). It shares the
   * channel: no second connection, and it closes with this client.
   */
  serviceClient(): grpc.Client {
    return new grpc.Client(this.address, grpc.credentials.createInsecure(), { channelOverride: this.client.getChannel() });
  }

  /** Closes the channel; later calls fail with UNAVAILABLE. */
  close(): void {
    this.client.close();
  }

  /** Makes one unary call with a deadline, cancelled when `options.signal` aborts. */
  private unary<Req, Res>(method: UnaryMethod<Req, Res>, name: string, request: Req, options: PluginCallOptions): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) {
        reject(new PluginCallError(grpc.status.CANCELLED, "call cancelled before it started", { method: name }));
        return;
      }
      let call: grpc.ClientUnaryCall;
      const observer = this.observer;
      const started = observer ? performance.now() : 0;
      try {
        call = method.call(this.client, request, callMetadata(options.trace), { deadline: options.deadline }, (error, response) => {
          signal?.removeEventListener("abort", onAbort);
          observer?.(name, error ? error.code : grpc.status.OK, (performance.now() - started) / 1000);
          if (error) reject(callErrorOf(error, name, error) ?? error);
          else resolve(response);
        });
      } catch (error) {
        // grpc-js throws, rather than fails the call, on a closed channel: a stopped plugin's
        // proxy still in someone's hands. Callers branch on UNAVAILABLE (a crash), not on this.
        reject(new PluginCallError(grpc.status.UNAVAILABLE, (error as Error).message, { method: name, cause: error }));
        return;
      }
      const onAbort = (): void => call.cancel();
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
