/**
 * The shapes a plugin author writes: the argument of `definePlugin`.
 */
import type { Logger } from "./log.js";
import type { PluginRequest } from "./request.js";

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

/** What `initialize` receives. */
export interface InitContext {
  /** Plugin configuration, with `configSchema` defaults filled in for missing keys. */
  config: Record<string, string>;
  /** Token to send as `auth_token` when calling the host's services. */
  authToken: string;
  /** Where the host's services listen. */
  endpoints: ServiceEndpoints;
  /** Logger whose lines carry the plugin name. */
  log: Logger;
}

/**
 * A route handler. Return a response built with `json`, `text` or `reply`, any other value
 * (sent as JSON 200), or nothing (204). Throw an `HttpError` to answer its status.
 */
export type RouteHandler = (req: PluginRequest) => unknown;

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
}
