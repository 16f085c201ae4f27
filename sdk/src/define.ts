/**
 * `definePlugin`: validates a plugin definition once and compiles its routes.
 */
import type { RouteInfo, ScheduleInfo, WatcherRegistration } from "@qntx/protocol";
import { compileCommands, type CompiledCommand } from "./commands.js";
import { validateConfigSchema } from "./config.js";
import { log as rootLog, type Logger } from "./log.js";
import { checkProviders, type ProviderDefs } from "./providers.js";
import { createRouter, type Router } from "./router.js";
import type { ConfigField, HealthStatus, InitContext, JobHandler, PluginDef, PluginMetadata, ScheduleDef, WatcherDef } from "./types.js";
import type { WebSocketHandler } from "./websocket.js";

/** Allowed plugin names: they become a URL segment (`/api/<name>`) and a log field. */
export const PLUGIN_NAME_RE = /^[A-Za-z0-9_-]+$/;

const DEFINITION_BRAND = Symbol.for("qntx.sdk.PluginDefinition");

/** A validated plugin, ready for `serve` or `startPlugin`. Built by {@link definePlugin}. */
export interface PluginDefinition {
  /** Metadata with every optional field filled (empty string when not given). */
  readonly metadata: Readonly<Required<PluginMetadata>>;
  /** The compiled router; `router.handle(httpRequest)` answers like `HandleHTTP`. */
  readonly router: Router;
  /** Routes as announced to the host. */
  readonly routes: readonly RouteInfo[];
  /** Config keys the plugin understands (empty when none were declared). */
  readonly configSchema: Readonly<Record<string, ConfigField>>;
  /** Static job handlers by name, in declaration order. */
  readonly handlers: ReadonlyMap<string, JobHandler>;
  /** Schedules as announced to the host. */
  readonly schedules: readonly ScheduleInfo[];
  /** Attestation watchers as announced to the host. */
  readonly watchers: readonly WatcherRegistration[];
  /** The author's hooks, unchanged. */
  readonly initialize: ((ctx: InitContext) => void | Promise<void>) | undefined;
  readonly health: (() => HealthStatus | Promise<HealthStatus>) | undefined;
  readonly shutdown: (() => void | Promise<void>) | undefined;
  /** Serves WebSocket sessions; undefined when the plugin has none. */
  readonly websocket: WebSocketHandler | undefined;
  /** CLI commands by name, validated (empty when the plugin has none). */
  readonly commands: ReadonlyMap<string, CompiledCommand>;
  /** The services the plugin provides other plugins (undefined when none). */
  readonly provides: ProviderDefs | undefined;
  /** Logger whose lines carry `plugin: <name>`. */
  readonly log: Logger;
}

/** True when `value` came from {@link definePlugin}. */
export function isPluginDefinition(value: unknown): value is PluginDefinition {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[DEFINITION_BRAND] === true;
}

function optionalText(value: unknown, field: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw new TypeError(`${field} must be a string`);
  return value;
}

function optionalHook<T>(value: T | undefined, field: string): T | undefined {
  if (value !== undefined && typeof value !== "function") throw new TypeError(`${field} must be a function`);
  return value;
}

/** Throws a TypeError when `name` cannot be a job handler name. */
export function checkHandlerName(name: unknown, where: string): asserts name is string {
  // The host registers `<plugin>/<name>` and strips the prefix again: a `/` in the name would be ambiguous.
  if (typeof name !== "string" || name === "" || /[\s/]/.test(name)) {
    throw new TypeError(`${where}: handler name ${JSON.stringify(name)} is invalid: use a non-empty name without "/" or whitespace`);
  }
}

function compileHandlers(handlers: PluginDef["handlers"]): Map<string, JobHandler> {
  const map = new Map<string, JobHandler>();
  if (handlers === undefined) return map;
  if (typeof handlers !== "object" || handlers === null) throw new TypeError("handlers must be an object of name → function");
  for (const [name, handler] of Object.entries(handlers)) {
    checkHandlerName(name, "handlers");
    if (typeof handler !== "function") throw new TypeError(`handlers.${name} must be a function`);
    map.set(name, handler);
  }
  return map;
}

function compileSchedules(schedules: PluginDef["schedules"], handlers: ReadonlyMap<string, JobHandler>): ScheduleInfo[] {
  if (schedules === undefined) return [];
  if (!Array.isArray(schedules)) throw new TypeError("schedules must be an array");
  return schedules.map((schedule: ScheduleDef, i) => {
    const where = `schedules[${i}]`;
    if (!schedule || typeof schedule !== "object") throw new TypeError(`${where} must be an object`);
    if (!handlers.has(schedule.handler)) {
      const known = [...handlers.keys()];
      throw new TypeError(`${where}: no handler named ${JSON.stringify(schedule.handler)} (handlers: ${known.length > 0 ? known.join(", ") : "none"})`);
    }
    const interval = schedule.intervalSeconds;
    if (!Number.isInteger(interval) || interval < 0 || interval > 2_147_483_647) {
      throw new TypeError(`${where}: intervalSeconds must be an integer >= 0 (0 = off), got ${String(interval)}`);
    }
    return {
      handlerName: schedule.handler,
      intervalSeconds: interval,
      enabledByDefault: schedule.enabledByDefault ?? true,
      description: optionalText(schedule.description, `${where}.description`),
      atsCode: optionalText(schedule.atsCode, `${where}.atsCode`),
    };
  });
}

function optionalStrings(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v !== "")) {
    throw new TypeError(`${field} must be an array of non-empty strings`);
  }
  return [...value];
}

function compileWatchers(watchers: PluginDef["watchers"], handlers: ReadonlyMap<string, JobHandler>): WatcherRegistration[] {
  if (watchers === undefined) return [];
  if (!Array.isArray(watchers)) throw new TypeError("watchers must be an array");
  const ids = new Set<string>();
  return watchers.map((watcher: WatcherDef, i) => {
    const where = `watchers[${i}]`;
    if (!watcher || typeof watcher !== "object") throw new TypeError(`${where} must be an object`);
    if (typeof watcher.id !== "string" || watcher.id.trim() === "") throw new TypeError(`${where}: id must be a non-empty string`);
    // The id comes back in every payload (`watcher_id`): two watchers with one id could not be told apart.
    if (ids.has(watcher.id)) throw new TypeError(`${where}: duplicate watcher id ${JSON.stringify(watcher.id)}`);
    ids.add(watcher.id);
    if (!handlers.has(watcher.handler)) {
      const known = [...handlers.keys()];
      throw new TypeError(`${where} (${watcher.id}): no handler named ${JSON.stringify(watcher.handler)} (handlers: ${known.length > 0 ? known.join(", ") : "none"})`);
    }
    const rate = watcher.maxFiresPerSecond ?? 0;
    if (!Number.isInteger(rate) || rate < 0 || rate > 2_147_483_647) {
      throw new TypeError(`${where} (${watcher.id}): maxFiresPerSecond must be an integer >= 0 (0 = no limit), got ${String(rate)}`);
    }
    return {
      id: watcher.id,
      handlerName: watcher.handler,
      subjects: optionalStrings(watcher.subjects, `${where}.subjects`),
      predicates: optionalStrings(watcher.predicates, `${where}.predicates`),
      contexts: optionalStrings(watcher.contexts, `${where}.contexts`),
      actors: optionalStrings(watcher.actors, `${where}.actors`),
      maxFiresPerSecond: rate,
    };
  });
}

/**
 * Validates `def` and compiles its routes into a router, once: a bad name, route key or
 * schema throws here, at startup, with a message that names the culprit, not on the first request.
 *
 * @example
 * export default definePlugin({
 *   metadata: { name: "hello", version: "0.1.0" },
 *   routes: { "GET /hello": () => ({ message: "hi" }) },
 * });
 */
export function definePlugin(def: PluginDef): PluginDefinition {
  if (!def || typeof def !== "object" || !def.metadata || typeof def.metadata !== "object") {
    throw new TypeError("definePlugin: expected { metadata: { name, version }, … }");
  }
  const { name, version } = def.metadata;
  if (typeof name !== "string" || name === "") throw new TypeError("metadata.name must be a non-empty string");
  if (!PLUGIN_NAME_RE.test(name)) {
    throw new TypeError(`metadata.name "${name}" is invalid: use letters, digits, "_" and "-" only (it becomes /api/${name})`);
  }
  if (typeof version !== "string" || version === "") throw new TypeError(`metadata.version of plugin "${name}" must be a non-empty string`);

  const metadata: Required<PluginMetadata> = Object.freeze({
    name,
    version,
    qntxVersion: optionalText(def.metadata.qntxVersion, "metadata.qntxVersion"),
    description: optionalText(def.metadata.description, "metadata.description"),
    author: optionalText(def.metadata.author, "metadata.author"),
    license: optionalText(def.metadata.license, "metadata.license"),
  });

  const log = rootLog.child({ plugin: name });
  const configSchema = Object.freeze({ ...(def.configSchema ?? {}) });
  validateConfigSchema(configSchema);
  const router = createRouter(def.routes ?? {}, { pluginName: name, log });
  const handlers = compileHandlers(def.handlers);
  const schedules = Object.freeze(compileSchedules(def.schedules, handlers).map((s) => Object.freeze(s)));
  const watchers = Object.freeze(compileWatchers(def.watchers, handlers).map((w) => Object.freeze(w)));
  const commands = compileCommands(def.commands);

  const definition: PluginDefinition = {
    metadata,
    router,
    routes: router.routes,
    configSchema,
    handlers,
    schedules,
    watchers,
    initialize: optionalHook(def.initialize, "initialize"),
    health: optionalHook(def.health, "health"),
    shutdown: optionalHook(def.shutdown, "shutdown"),
    websocket: optionalHook(def.websocket, "websocket"),
    commands,
    provides: checkProviders(def.provides),
    log,
  };
  Object.defineProperty(definition, DEFINITION_BRAND, { value: true });
  return Object.freeze(definition);
}
