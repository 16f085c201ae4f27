/**
 * ExternalDomainProxy: a DomainPlugin backed by a plugin process reached over gRPC.
 * It holds one long-lived channel for the plugin's whole life (never one per call); every
 * call carries a deadline and can be aborted, and every failure becomes a PluginCallError
 * with the gRPC status, so callers handle remote and built-in plugins the same way.
 */
import * as grpc from "@grpc/grpc-js";
import {
  DomainPluginServiceClient,
  DomainPluginServiceService,
  WebSocketMessage_Type,
  grpcOptions,
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
} from "@qntx/protocol";
import { decodeWebSocketFrame, encodeWebSocketFrame, frame } from "@qntx/protocol";
import { PluginCallError, type CallOptions, type DomainPlugin, type WebSocketChannel, type WebSocketFrame, type WebSocketOpen } from "./domain-plugin.js";

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

/** How the channel to a plugin is secured; plaintext when not given (see plugin-channel.ts). */
export interface ProxyChannelOptions {
  maxMessageBytes?: number;
  /** TLS credentials (a dialed plugin's `tls`, or auto-mTLS pinning); default plaintext. */
  credentials?: grpc.ChannelCredentials;
  /** Added to the shared channel options (e.g. `grpc.ssl_target_name_override`). */
  channelOptions?: grpc.ChannelOptions;
}

/** Proxies the DomainPlugin interface to a plugin listening at `address` (`host:port` or `unix:///path`). */
export class ExternalDomainProxy implements DomainPlugin {
  readonly address: string;
  private readonly client: DomainPluginServiceClient;

  constructor(address: string, options: ProxyChannelOptions = {}) {
    this.address = address;
    this.client = new DomainPluginServiceClient(
      address,
      options.credentials ?? grpc.credentials.createInsecure(),
      { ...grpcOptions(options.maxMessageBytes), ...options.channelOptions },
    );
  }

  metadata(options: CallOptions): Promise<MetadataResponse> {
    return this.unary(this.client.metadata, EMPTY, options);
  }

  initialize(request: InitializeRequest, options: CallOptions): Promise<InitializeResponse> {
    return this.unary(this.client.initialize, request, options);
  }

  handleHTTP(request: HTTPRequest, options: CallOptions): Promise<HTTPResponse> {
    return this.unary(this.client.handleHttp, request, options);
  }

  health(options: CallOptions): Promise<HealthResponse> {
    return this.unary(this.client.health, EMPTY, options);
  }

  async shutdown(options: CallOptions): Promise<void> {
    await this.unary(this.client.shutdown, EMPTY, options);
  }

  configSchema(options: CallOptions): Promise<ConfigSchemaResponse> {
    return this.unary(this.client.configSchema, EMPTY, options);
  }

  registerGlyphs(options: CallOptions): Promise<GlyphDefResponse> {
    return this.unary(this.client.registerGlyphs, EMPTY, options);
  }

  executeJob(request: ExecuteJobRequest, options: CallOptions): Promise<ExecuteJobResponse> {
    return this.unary(this.client.executeJob, request, options);
  }

  /**
   * The plugin's CLI commands. These RPCs are not in QNTX's current proto, so a plugin built
   * for QNTX answers UNIMPLEMENTED: that means "no commands", not a failure.
   */
  async commands(options: CallOptions): Promise<CommandsResponse> {
    try {
      return await this.unary(this.client.commands, EMPTY, options);
    } catch (error) {
      if (error instanceof PluginCallError && error.code === grpc.status.UNIMPLEMENTED) return { commands: [] };
      throw error;
    }
  }

  /** Runs one command under the call's deadline (DEADLINE_EXCEEDED when it passes). */
  executeCommand(request: ExecuteCommandRequest, options: CallOptions): Promise<ExecuteCommandResponse> {
    return this.unary(this.client.executeCommand, request, options);
  }

  /**
   * Opens a `HandleWebSocket` bidi stream on the plugin's long-lived channel and sends CONNECT
   * with `open.headers`. Frames use the exact-timestamp codec (see @qntx/protocol ws-codec.ts), not
   * the generated one. Like QNTX, the query parameters also travel as call metadata.
   */
  handleWebSocket(open: WebSocketOpen): WebSocketChannel {
    if (open.signal.aborted) throw new PluginCallError(grpc.status.CANCELLED, "session cancelled before it started");
    const call = this.client.makeBidiStreamRequest<WebSocketFrame, WebSocketFrame>(
      HANDLE_WEBSOCKET_PATH, encodeWebSocketFrame, decodeWebSocketFrame, queryMetadata(open.headers.query ?? ""),
    );
    let ended = false;
    const finish = (error?: PluginCallError): void => {
      if (ended) return;
      ended = true;
      open.signal.removeEventListener("abort", onAbort);
      if (!open.signal.aborted) open.onEnd(error);
    };
    const onAbort = (): void => {
      ended = true;
      call.cancel();
    };
    open.signal.addEventListener("abort", onAbort, { once: true });
    call.on("data", (received: WebSocketFrame) => {
      if (!ended && !open.signal.aborted) open.onFrame(received);
    });
    // The status follows the last frame; an error status is also emitted as `error`, ignored here.
    call.on("error", () => undefined);
    call.on("status", (status: grpc.StatusObject) => {
      finish(status.code === grpc.status.OK ? undefined : new PluginCallError(status.code, status.details || grpc.status[status.code] || "stream failed"));
    });
    call.on("drain", () => open.onDrain?.());
    call.write(frame(WebSocketMessage_Type.CONNECT, undefined, open.headers));
    return {
      send: (message) => (ended || !call.writable ? true : call.write(message)),
      end: () => {
        if (!ended && call.writable) call.end();
      },
      pause: () => call.pause(),
      resume: () => call.resume(),
    };
  }

  /** Closes the channel; later calls fail with UNAVAILABLE-like errors. */
  close(): void {
    this.client.close();
  }

  /** Makes one unary call with a deadline, cancelled when `options.signal` aborts. */
  private unary<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, options: CallOptions): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(new PluginCallError(grpc.status.CANCELLED, "call cancelled before it started"));
        return;
      }
      const call = method.call(this.client, request, new grpc.Metadata(), { deadline: options.deadline }, (error, response) => {
        options.signal?.removeEventListener("abort", onAbort);
        if (error) reject(new PluginCallError(error.code, error.details || error.message, { cause: error }));
        else resolve(response);
      });
      const onAbort = (): void => call.cancel();
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/** Each query parameter as call metadata, as QNTX sends it; names gRPC would refuse are left out. */
function queryMetadata(query: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of new URLSearchParams(query)) {
    const name = key.toLowerCase();
    if (!/^[0-9a-z_.-]+$/.test(name) || RESERVED_METADATA.test(name) || !/^[\x20-\x7e]*$/.test(value)) continue;
    metadata.add(name, value);
  }
  return metadata;
}
