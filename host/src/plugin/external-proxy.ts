/**
 * ExternalDomainProxy: a DomainPlugin backed by a plugin process reached over gRPC, through
 * @qntx/protocol's PluginClient: one long-lived channel for the plugin's whole life (never one
 * per call), a deadline and an abort signal on every call, and every failure a PluginCallError
 * with the gRPC status, so callers handle remote and built-in plugins the same way. What this
 * class adds is the DomainPlugin side: UNIMPLEMENTED Commands read as "none", and a WebSocket
 * session as callbacks.
 */
import * as grpc from "@grpc/grpc-js";
import {
  PluginClient,
  WebSocketMessage_Type,
  callErrorOf,
  frame,
  queryMetadata,
  type CommandsResponse,
  type ConfigSchemaResponse,
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
  type PluginChannelOptions,
} from "@qntx/protocol";
import { PluginCallError, type CallOptions, type DomainPlugin, type WebSocketChannel, type WebSocketFrame, type WebSocketOpen } from "./domain-plugin.js";

/** How the channel to a plugin is secured; plaintext when not given (see plugin-channel.ts). */
export type ProxyChannelOptions = PluginChannelOptions;

/** Proxies the DomainPlugin interface to a plugin listening at `address` (`host:port` or `unix:///path`). */
export class ExternalDomainProxy implements DomainPlugin {
  readonly address: string;
  private readonly client: PluginClient;

  constructor(address: string, options: ProxyChannelOptions = {}) {
    this.address = address;
    this.client = new PluginClient(address, options);
  }

  metadata(options: CallOptions): Promise<MetadataResponse> {
    return this.client.metadata(options);
  }

  initialize(request: InitializeRequest, options: CallOptions): Promise<InitializeResponse> {
    return this.client.initialize(request, options);
  }

  handleHTTP(request: HTTPRequest, options: CallOptions): Promise<HTTPResponse> {
    return this.client.handleHTTP(request, options);
  }

  health(options: CallOptions): Promise<HealthResponse> {
    return this.client.health(options);
  }

  async shutdown(options: CallOptions): Promise<void> {
    await this.client.shutdown(options);
  }

  configSchema(options: CallOptions): Promise<ConfigSchemaResponse> {
    return this.client.configSchema(options);
  }

  registerGlyphs(options: CallOptions): Promise<GlyphDefResponse> {
    return this.client.registerGlyphs(options);
  }

  executeJob(request: ExecuteJobRequest, options: CallOptions): Promise<ExecuteJobResponse> {
    return this.client.executeJob(request, options);
  }

  /**
   * The plugin's CLI commands. These RPCs are not in QNTX's current proto, so a plugin built
   * for QNTX answers UNIMPLEMENTED: that means "no commands", not a failure.
   */
  async commands(options: CallOptions): Promise<CommandsResponse> {
    try {
      return await this.client.commands(options);
    } catch (error) {
      if (error instanceof PluginCallError && error.code === grpc.status.UNIMPLEMENTED) return { commands: [] };
      throw error;
    }
  }

  /** Runs one command under the call's deadline (DEADLINE_EXCEEDED when it passes). */
  executeCommand(request: ExecuteCommandRequest, options: CallOptions): Promise<ExecuteCommandResponse> {
    return this.client.executeCommand(request, options);
  }

  /**
   * Opens a `HandleWebSocket` bidi stream on the plugin's long-lived channel and sends CONNECT
   * with `open.headers`. Frames use the exact-timestamp codec (see @qntx/protocol ws-codec.ts), not
   * the generated one. Like QNTX, the query parameters also travel as call metadata. A session
   * lasts as long as its browser: it has no deadline, only the abort signal.
   */
  handleWebSocket(open: WebSocketOpen): WebSocketChannel {
    const signal = open.signal;
    const call = this.client.handleWebSocket({ deadline: Infinity, signal, metadata: queryMetadata(open.headers.query ?? "") });
    let ended = false;
    call.on("data", (received: WebSocketFrame) => {
      if (!ended && !signal.aborted) open.onFrame(received);
    });
    // The status follows the last frame; an error status is also emitted as `error`, ignored here.
    call.on("error", () => undefined);
    call.on("status", (status: grpc.StatusObject) => {
      if (ended) return;
      ended = true;
      // An aborted session was cancelled by the host: nobody waits for its end.
      if (!signal.aborted) open.onEnd(callErrorOf(status, "HandleWebSocket"));
    });
    call.on("drain", () => open.onDrain?.());
    call.write(frame(WebSocketMessage_Type.CONNECT, undefined, open.headers));
    return {
      send: (message) => (ended || signal.aborted || !call.writable ? true : call.write(message)),
      end: () => {
        if (!ended && !signal.aborted && call.writable) call.end();
      },
      pause: () => call.pause(),
      resume: () => call.resume(),
    };
  }

  /** A client on this plugin's channel for the provider services it serves (see DomainPlugin.serviceClient). */
  serviceClient(): grpc.Client {
    return this.client.serviceClient();
  }

  /** Closes the channel; later calls fail with UNAVAILABLE-like errors. */
  close(): void {
    this.client.close();
  }
}
