/**
 * DomainPlugin: the one interface the host talks to. A built-in plugin implements it in
 * process; `ExternalDomainProxy` implements it by calling a plugin over gRPC. The registry,
 * the gateway and the CLI cannot tell the two apart.
 */
import type {
  ConfigSchemaResponse,
  ExecuteJobRequest,
  ExecuteJobResponse,
  HTTPRequest,
  HTTPResponse,
  HealthResponse,
  InitializeRequest,
  InitializeResponse,
  MetadataResponse,
} from "@qntx/protocol";

/** Options of one call into a plugin. */
export interface CallOptions {
  /** Absolute deadline (epoch ms). A call that passes it fails with DEADLINE_EXCEEDED. */
  readonly deadline: number;
  /** Aborts the call early (for example when the browser disconnects). */
  readonly signal?: AbortSignal;
}

/**
 * Error of a call into a plugin, carrying the gRPC status code so one function
 * (`grpcStatusToHttp`) maps it to HTTP, whether the plugin is remote or built in.
 */
export class PluginCallError extends Error {
  readonly code: number;
  constructor(code: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PluginCallError";
    this.code = code;
  }
}

/** The services the host offers a plugin, as `InitializeRequest` carries them. */
export type PluginServices = InitializeRequest;

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
  /** Runs one job of a handler the plugin announced. */
  executeJob?(request: ExecuteJobRequest, options: CallOptions): Promise<ExecuteJobResponse>;
  /** Releases connections held to the plugin (the gRPC channel of an external one). */
  close?(): void;
}
