/**
 * The shapes a plugin author writes: the argument of `definePlugin`.
 */
import type { AtsClient } from "./clients/ats-client.js";
import type { EmbeddingClient } from "./clients/embedding-client.js";
import type { FetchClient } from "./clients/fetch-client.js";
import type { FileClient } from "./clients/file-client.js";
import type { LlmClient } from "./clients/llm-client.js";
import type { QueueClient } from "./clients/queue-client.js";
import type { ScheduleClient } from "./clients/schedule-client.js";
import type { SearchClient } from "./clients/search-client.js";
import type { VectorsClient } from "./clients/vectors-client.js";
import type { Logger } from "./log.js";
import type { ProviderDefs } from "./providers.js";
import type { PluginRequest } from "./request.js";
import type { WebSocketHandler } from "./websocket.js";
import type { TraceContext } from "./trace.js";
import type { CommandDef } from "./command-types.js";

export type { CommandContext, CommandDef, CommandFlagDef, CommandFlagType, CommandFlags, CommandOutput, CommandResult } from "./command-types.js";

/** What `Metadata` answers. `name` must match the name the host is configured with. */
export interface PluginMetadata {
  /** Plugin name: letters, digits, `_` and `-`. Routes are mounted at `/api/<name>`. */
  name: string;
  /** Plugin version, e.g. `0.1.0`. */
  version: string;
  /** Semver range of host versions this plugin supports, e.g. `>=0.1.0`. */
  qntxVersion?: string;
  /** One-line description. */
  description?: string;
  /** Author. */
  author?: string;
  /** License identifier, e.g. `MIT`. */
  license?: string;
}

/**
 * Addresses (`host:port`, no scheme) of the services the host offers to the plugin.
 * An empty string means the service is not offered.
 */
export interface ServiceEndpoints {
  ats: string;
  queue: string;
  schedule: string;
  fileService: string;
  llm: string;
  embedding: string;
  vectorSearch: string;
  ground: string;
  search: string;
  fetch: string;
}

/**
 * The host's services, as typed clients that send the plugin's token with every call. Each is
 * `undefined` when the host does not offer it (an empty endpoint in `InitializeRequest`).
 * Every context has them: `initialize`'s, a job's, a command's, and a route's second argument.
 */
export interface HostServices {
  /** The attestation store. */
  readonly ats: AtsClient | undefined;
  /** The job queue (Pulse). */
  readonly queue: QueueClient | undefined;
  /** Recurring jobs the plugin creates at run time. */
  readonly schedule: ScheduleClient | undefined;
  /** Files the host stores, read by id. */
  readonly files: FileClient | undefined;
  /** HTTP GETs made (and attested) by the host. */
  readonly fetch: FetchClient | undefined;
  /** Full-text search: the host's index, or a provider plugin's. */
  readonly search: SearchClient | undefined;
  /** Chat with a language model, served by a provider plugin. */
  readonly llm: LlmClient | undefined;
  /** Text to vectors, served by a provider plugin. */
  readonly embedding: EmbeddingClient | undefined;
  /** Nearest-neighbour search, served by a provider plugin. */
  readonly vectors: VectorsClient | undefined;
}

/** What a route handler receives besides the request: the host's services, the config, the logger. */
export interface RouteContext extends HostServices {
  /** Plugin configuration of the latest successful `Initialize` (schema defaults filled in). */
  readonly config: Record<string, string>;
  readonly log: Logger;
  /**
   * The W3C trace of this request (`traceId`, the host's `spanId`, `flags`, `state`), or
   * undefined when the host sent none. Calls to the host's services made while the handler
   * runs carry it already; `formatTraceparent(ctx.trace)` gives the header for other calls.
   */
  readonly trace: TraceContext | undefined;
}

/** What `initialize` receives. */
export interface InitContext extends HostServices {
  /** Plugin configuration, with `configSchema` defaults filled in for missing keys. */
  config: Record<string, string>;
  /** Token to send as `auth_token` when calling the host's services. */
  authToken: string;
  /** Where the host's services listen. */
  endpoints: ServiceEndpoints;
  /** Logger whose lines carry the plugin name. */
  log: Logger;
  /**
   * Announces a job handler found at run time, e.g. from `handler` attestations
   * (`subjects=[NAME] predicates=["handler"] contexts=[<plugin>]`). Its name joins
   * `handler_names` in the `Initialize` answer. Each `Initialize` starts a new dynamic set:
   * handlers registered by an earlier one are dropped. Registering a name twice keeps the
   * last; a name that is also a static handler throws.
   */
  registerHandler(name: string, handler: JobHandler): void;
}

/** Extra fields of a job log line. */
export interface JobLogOptions {
  /** Stage of the job the line belongs to, e.g. `download`. */
  stage?: string;
  /** Free-form details, stored as JSON text. */
  metadata?: Record<string, unknown>;
}

/** Log of one job: lines travel back to the host in `ExecuteJobResponse.log_entries`. */
export interface JobLog {
  debug(message: string, options?: JobLogOptions): void;
  info(message: string, options?: JobLogOptions): void;
  warn(message: string, options?: JobLogOptions): void;
  error(message: string, options?: JobLogOptions): void;
}

/** What a job handler receives besides the payload. */
export interface JobContext extends HostServices {
  /** Id of the job in the host's queue. */
  jobId: string;
  /** Name of the handler running, without the `<plugin>/` prefix. */
  handlerName: string;
  /** Plugin configuration of the latest successful `Initialize` (schema defaults filled in). */
  config: Record<string, string>;
  /**
   * Aborts when the host cancels the `ExecuteJob` call or when its `timeout_secs` passes.
   * Pass it on (`fetch(url, { signal })`) or check `signal.aborted` between steps: once it
   * aborts the answer has been sent and whatever the handler returns is ignored.
   */
  signal: AbortSignal;
  /**
   * Reports progress. It goes back in the answer and, when the host offers a queue, is pushed
   * live with `UpdateJob` (at most ~10 a second, the last one always sent). Omitting `total`
   * keeps the previous total.
   */
  progress(current: number, total?: number): void;
  /** Job log; returned to the host with the answer. */
  log: JobLog;
  /** Adds to the job's actual cost (`cost_actual` is the sum). */
  addCost(amount: number): void;
  /** The plugin's own logger (stderr), for lines that are not part of the job's log. */
  pluginLog: Logger;
  /** The W3C trace of this run (the trace the job was enqueued in), or undefined when the host sent none. */
  trace: TraceContext | undefined;
}

/**
 * A job handler. `payload` is the job's payload parsed as JSON, the raw bytes (a Buffer)
 * when it is not JSON, or `undefined` when empty. The value returned becomes the job's result:
 * bytes as is, a string as UTF-8, `undefined` as empty, anything else as JSON.
 * Throwing fails the job with the error's message.
 */
export type JobHandler = (payload: unknown, ctx: JobContext) => unknown | Promise<unknown>;

/** A recurring run of a handler, announced in `InitializeResponse.schedules`. */
export interface ScheduleDef {
  /** A key of `handlers`. */
  handler: string;
  /** Seconds between runs; 0 = off. */
  intervalSeconds: number;
  /** Whether the schedule runs before a user enables it. Default true. */
  enabledByDefault?: boolean;
  description?: string;
  /** ATS code run by the schedule (QNTX `ats_code`), if any. */
  atsCode?: string;
}

/**
 * Asks the host to run a handler for every new attestation matching a filter, announced in
 * `InitializeResponse.watchers`. The host enqueues `<plugin>/<handler>` with the payload QNTX
 * gives watcher handlers: the attestation as QNTX's Go JSON (`id`, `subjects`, `predicates`,
 * `contexts`, `actors`, `timestamp` and `created_at` as RFC 3339 text, `source`, `attributes`)
 * plus `watcher_id`. Filter dimensions work like a query: values within one
 * dimension are OR-ed, dimensions are AND-ed, an empty dimension matches anything.
 */
export interface WatcherDef {
  /** Identifies the watcher (`watcher_id` in the payload); non-empty and unique in the plugin. */
  id: string;
  /** A key of `handlers` (static handlers only: dynamic ones are not known at definition time). */
  handler: string;
  subjects?: string[];
  predicates?: string[];
  contexts?: string[];
  actors?: string[];
  /** At most this many jobs a second; matches beyond it are skipped. 0 or omitted = no limit. */
  maxFiresPerSecond?: number;
}

/**
 * A route handler. Return a response built with `json`, `text` or `reply`, any other value
 * (sent as JSON 200), or nothing (204). Throw an `HttpError` to answer its status.
 */
export type RouteHandler = (req: PluginRequest, ctx: RouteContext) => unknown;

/** A route with a description, which the host shows in its route listing. */
export interface RouteSpec {
  handler: RouteHandler;
  description?: string;
}

/** Answer of the `health` hook. */
export interface HealthStatus {
  healthy: boolean;
  message?: string;
  /** Free-form details; values are sent as strings. */
  details?: Record<string, string | number | boolean>;
}

/** Type of a config value, as the `ConfigSchema` RPC names it. */
export type ConfigFieldType = "string" | "number" | "boolean" | "array";

/** Describes one config key, answered by the `ConfigSchema` RPC. */
export interface ConfigField {
  type: ConfigFieldType;
  description?: string;
  /** Used when the host sends no value for this key. */
  default?: string | number | boolean | readonly string[];
  /** `initialize` fails with a clear message when a required key is missing. */
  required?: boolean;
  /** Lower bound of a number (or of an array's length). */
  min?: number;
  /** Upper bound of a number (or of an array's length). */
  max?: number;
  /** Regular expression a string value must match. */
  pattern?: string;
  /** Type of the elements of an array. */
  elementType?: Exclude<ConfigFieldType, "array">;
}

/** The argument of `definePlugin`. */
export interface PluginDef {
  metadata: PluginMetadata;
  /** Called by the host's `Initialize` RPC; throwing fails the plugin's start. */
  initialize?: (ctx: InitContext) => void | Promise<void>;
  /**
   * HTTP routes keyed `"<METHOD> <path>"`: `"GET /hello"`, `"POST /echo"`, `"GET /users/:id"`,
   * `"* /any"` for any method. Paths are relative to `/api/<name>`.
   */
  routes?: Record<string, RouteHandler | RouteSpec>;
  /** Answers the `Health` RPC; healthy when omitted. */
  health?: () => HealthStatus | Promise<HealthStatus>;
  /** Runs once when the plugin stops (Shutdown RPC, SIGTERM or SIGINT). */
  shutdown?: () => void | Promise<void>;
  /** Config keys the plugin understands. */
  configSchema?: Record<string, ConfigField>;
  /**
   * Job handlers by name, announced as `handler_names`; the host registers them as
   * `<plugin>/<name>` and runs them with `ExecuteJob`. Names: no `/`, no whitespace.
   */
  handlers?: Record<string, JobHandler>;
  /** Recurring runs of handlers, announced as `schedules`. */
  schedules?: ScheduleDef[];
  /**
   * Attestation watchers, announced as `watchers`: the host runs `handler` for each new
   * attestation matching the filter. A handler that writes attestations its own watcher
   * matches would trigger itself forever: filter on a predicate it does not write.
   */
  watchers?: WatcherDef[];
  /**
   * Serves WebSockets (`/ws/<name>` on the host): called once per browser connection with
   * its session. `session.on("message", (data) => …)`, `session.send(data)`,
   * `session.on("resize", ({cols, rows}) => …)`, `session.on("close", …)`, `session.close()`.
   * Without it, `HandleWebSocket` answers UNIMPLEMENTED.
   */
  websocket?: WebSocketHandler;
  /**
   * CLI commands by name (`qntx <plugin> <name> …`), served by the `Commands` and
   * `ExecuteCommand` RPCs. Names: no whitespace, not starting with "-".
   */
  commands?: Record<string, CommandDef>;
  /**
   * Services this plugin provides to other plugins, which the host routes to it:
   * `{ llm: { chat, stream } }`, `embedding`, `vectors`, `search`. Each sets its provider flag
   * in the `Initialize` answer (`llm_provider`, …) and is served on the plugin's own port.
   */
  provides?: ProviderDefs;
}
