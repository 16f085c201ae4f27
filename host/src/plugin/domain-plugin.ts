/**
 * DomainPlugin: the one interface the host talks to. A built-in plugin implements it in
 * process; `ExternalDomainProxy` implements it by calling a plugin over gRPC. The registry,
 * the gateway and the CLI cannot tell the two apart.
 */
import type { Client as GrpcClient } from "@grpc/grpc-js";
import type {
  WebSocketFrame,
  CommandsResponse,
  ConfigSchemaResponse,
  ExecuteCommandRequest,
  ExecuteCommandResponse,
  ExecuteJobRequest,
  ExecuteJobResponse,
  GlyphDefResponse,
  HTTPRequest,
  HTTPResponse,
  HealthResponse,
  InitializeRequest,
  InitializeResponse,
  MetadataResponse,
  PluginCallError,
  PluginCallOptions as CallOptions,
  WebSocketMessage_Type,
} from "@qntx/protocol";

/**
 * Options of one call into a plugin (a deadline, always; an abort signal) and the error of a
 * failed one (its gRPC status): the same for built-in and external plugins, declared once in
 * @qntx/protocol with the client external plugins are called through.
 */
export { PluginCallError, type PluginCallOptions as CallOptions } from "@qntx/protocol";

/** The services the host offers a plugin, as `InitializeRequest` carries them. */
export type PluginServices = InitializeRequest;

export type { WebSocketFrame };

/**
 * What the host gives a plugin to open one WebSocket session (one browser connection).
 * The plugin answers through the callbacks; the host talks through the returned channel.
 */
export interface WebSocketOpen {
  /**
   * Headers of the CONNECT frame the session starts with: the browser's upgrade request
   * headers (lower-cased names, repeated values joined with ", "), plus `path` (the path
   * requested, e.g. `/ws/term/tab1`) and `query` (the raw query string, without `?`).
   */
  readonly headers: Readonly<Record<string, string>>;
  /** Aborting it cancels the session at once (the gRPC call of an external plugin). */
  readonly signal: AbortSignal;
  /** Every frame the plugin sends, in order. Never called after `onEnd` or an abort. */
  onFrame(frame: WebSocketFrame): void;
  /**
   * The plugin's side ended: cleanly (no argument: the stream finished OK) or with an error
   * (its gRPC status). Called once, never after an abort.
   */
  onEnd(error?: PluginCallError): void;
  /** The plugin can take frames again after `send` returned false. */
  onDrain?(): void;
}

/** The host's side of one WebSocket session. */
export interface WebSocketChannel {
  /**
   * Sends a frame to the plugin (the CONNECT frame has already been sent). Returns false when
   * the plugin is not keeping up: wait for `onDrain` before sending more. Frames sent after
   * the session ended are dropped.
   */
  send(frame: WebSocketFrame): boolean;
  /** Half-closes: the host sends nothing more; the plugin may still answer, then ends. */
  end(): void;
  /** Stops delivering the plugin's frames until `resume` (the browser is not reading). */
  pause?(): void;
  resume?(): void;
}

/** What every plugin, built-in or external, provides. */
export interface DomainPlugin {
  /** Name, version and the `qntx_version` range the host must satisfy. */
  metadata(options: CallOptions): Promise<MetadataResponse>;
  /** Hands over services and config; answers handler names, schedules and routes. */
  initialize(request: InitializeRequest, options: CallOptions): Promise<InitializeResponse>;
  /** Serves one HTTP request whose path is relative to `/api/<name>` (query kept). */
  handleHTTP(request: HTTPRequest, options: CallOptions): Promise<HTTPResponse>;
  /** Reports health; a throw counts as unhealthy. */
  health(options: CallOptions): Promise<HealthResponse>;
  /** Asks the plugin to release its resources. The plugin may exit afterwards. */
  shutdown(options: CallOptions): Promise<void>;
  /** Describes the plugin's config keys; plugins without a schema answer no fields. */
  configSchema?(options: CallOptions): Promise<ConfigSchemaResponse>;
  /**
   * The glyphs (canvas panels) the plugin offers its UI (`RegisterGlyphs`), which the gateway
   * lists at `GET /api/plugins/glyphs`. A plugin without it, or answering UNIMPLEMENTED, has none.
   */
  registerGlyphs?(options: CallOptions): Promise<GlyphDefResponse>;
  /** Runs one job of a handler the plugin announced. */
  executeJob?(request: ExecuteJobRequest, options: CallOptions): Promise<ExecuteJobResponse>;
  /**
   * Opens one WebSocket session (`HandleWebSocket`): sends CONNECT with `open.headers` and
   * returns the channel. Throws a PluginCallError when the session cannot start. Plugins
   * without it refuse WebSocket upgrades (404).
   */
  handleWebSocket?(open: WebSocketOpen): WebSocketChannel;
  /**
   * The CLI commands the plugin contributes (`qntx <plugin> <command>`). Not in QNTX's current
   * proto: a plugin without it (or answering UNIMPLEMENTED) has no commands.
   */
  commands?(options: CallOptions): Promise<CommandsResponse>;
  /** Runs one command; its exit code, stdout and stderr come back in the answer. */
  executeCommand?(request: ExecuteCommandRequest, options: CallOptions): Promise<ExecuteCommandResponse>;
  /**
   * A grpc-js client on the plugin's own channel, for the provider services it serves beside
   * this one (LLMService, …), which the host routes other plugins' calls to
   * (services/provider-router.ts). Built-in plugins have none: they cannot be providers.
   */
  serviceClient?(): GrpcClient;
  /** Releases connections held to the plugin (the gRPC channel of an external one). */
  close?(): void;
}
