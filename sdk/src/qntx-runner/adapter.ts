/**
 * The adapter from a QNTX-format plugin object to an SDK plugin: a `PluginDefinition` (served
 * by the SDK's `createDomainService`) whose routes and schedules are the ones the module
 * registers at Initialize and announces after `init`, plus a wrapper over that service for
 * what a definition cannot express (HandleHTTP before the first Initialize, glyphs).
 *
 * Routes are registered once, at the first successful Initialize, never per request. Not at
 * load: in QNTX's runtime `registerHTTP(mux)` always ran after `init`, so a module may read
 * what `init` set up (config, clients) while registering. Later Initialize calls (a config
 * change) keep the routes of the first.
 */
import { status as GrpcStatus, type sendUnaryData } from "@grpc/grpc-js";
import type { DomainPluginServiceServer, HTTPResponse, ScheduleInfo } from "@qntx/protocol";
import { definePlugin, type PluginDefinition } from "../define.js";
import { createRouter, type Router } from "../router.js";
import type { HealthStatus, RouteHandler } from "../types.js";
import type { WebSocketHandler } from "../websocket.js";
import { handlerNamesOf, schedulesOf } from "./announce.js";
import { QntxModuleError, messageOf } from "./errors.js";
import { glyphsOf } from "./glyphs.js";
import { toRouteHandler } from "./http.js";
import { toQntxInitRequest } from "./init-request.js";
import { toJobHandler } from "./jobs.js";
import { createRecordingMux } from "./mux.js";
import type { QntxModule } from "./types.js";

/** A QNTX module made servable by the SDK. */
export interface AdaptedQntxModule {
  /** The SDK definition: metadata, the `init` bridge, health, shutdown, WebSocket. */
  readonly definition: PluginDefinition;
  /** Wraps the service `createDomainService(definition, …)` built: HandleHTTP before the first Initialize, glyphs. */
  wrapService(service: DomainPluginServiceServer): DomainPluginServiceServer;
}

const HOOKS = ["init", "registerHTTP", "registerGlyphs", "shutdown", "health", "execute_job", "executeJob", "websocket"] as const;

function optionalString(mod: QntxModule, keys: string[], file: string): string | undefined {
  for (const key of keys) {
    const value = mod[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string") throw new QntxModuleError(`${key} of the plugin in ${file} must be a string, got ${JSON.stringify(value)}`, `write ${key}: "…"`);
    return value;
  }
  return undefined;
}

/** Prefixes an error from the module's own code with the hook and file it came from. */
function fromHook(hook: string, file: string, err: unknown, hint: string): Error {
  return new Error(`${hook} of ${file} failed: ${messageOf(err)}. Hint: ${hint}`, { cause: err });
}

/** Runs `work` and answers with its result, or with gRPC `code` and the error's message. */
function answer<T>(callback: sendUnaryData<T>, code: GrpcStatus, work: () => T | Promise<T>): void {
  Promise.resolve()
    .then(work)
    .then(
      (value) => callback(null, value),
      (err: unknown) => callback({ code, details: messageOf(err) }),
    );
}

/**
 * Checks the object's shape and builds the SDK plugin for it.
 * @throws QntxModuleError naming `file` when a field has the wrong type.
 */
export function adaptQntxModule(mod: QntxModule, file: string): AdaptedQntxModule {
  for (const hook of HOOKS) {
    const value = mod[hook];
    if (value !== undefined && value !== null && typeof value !== "function") {
      throw new QntxModuleError(`${hook} of the plugin in ${file} must be a function, got ${typeof value}`, `write it as a method: ${hook}(…) { … }`);
    }
  }
  for (const list of ["handler_names", "schedules"] as const) {
    const value = mod[list];
    if (value !== undefined && value !== null && !Array.isArray(value) && typeof value !== "function") {
      throw new QntxModuleError(`${list} of the plugin in ${file} must be an array (or a function returning one), got ${typeof value}`, `write ${list}: [ … ]`);
    }
  }

  let router: Router | undefined;
  // Two Initialize calls in flight must not run registerHTTP twice.
  let routing: Promise<Router> | undefined;
  let schedules: ScheduleInfo[] = [];
  const jobHandler = toJobHandler(mod, file);

  let base: PluginDefinition;
  try {
    base = definePlugin({
      metadata: {
        name: mod.name,
        // QNTX's runtime reported 1.0.0 for a module without a version; so do we.
        version: optionalString(mod, ["version"], file) ?? "1.0.0",
        qntxVersion: optionalString(mod, ["qntx_version", "qntxVersion"], file) ?? "",
        description: optionalString(mod, ["description"], file) ?? "",
        author: optionalString(mod, ["author"], file) ?? "",
        license: optionalString(mod, ["license"], file) ?? "",
      },
      async initialize(ctx) {
        if (mod.init) {
          try {
            await mod.init(toQntxInitRequest(ctx));
          } catch (err) {
            throw fromHook("init()", file, err, `init receives { config, auth_token, ats_store_endpoint, … }; check [plugins.${mod.name}] config in am.plugins.toml`);
          }
        }
        if (!router) {
          routing ??= registerRoutes();
          try {
            router = await routing;
          } catch (err) {
            routing = undefined; // the next Initialize tries again
            throw err;
          }
        }
        let names: string[];
        try {
          names = await handlerNamesOf(mod);
          schedules = await schedulesOf(mod, names);
        } catch (err) {
          throw fromHook("handler_names/schedules", file, err, "handler_names is a list of names; each schedule names one of them");
        }
        for (const name of names) ctx.registerHandler(name, jobHandler);
      },
      ...(typeof mod.health === "function" ? { health: () => (mod.health as () => HealthStatus | Promise<HealthStatus>).call(mod) } : {}),
      ...(mod.shutdown ? { shutdown: async () => void (await mod.shutdown!()) } : {}),
      ...(mod.websocket ? { websocket: ((session) => (mod.websocket as WebSocketHandler).call(mod, session)) as WebSocketHandler } : {}),
    });
  } catch (err) {
    throw new QntxModuleError(`the plugin in ${file} is invalid: ${messageOf(err)}`, "name: letters, digits, \"_\" and \"-\" (it becomes /api/<name>); version: a string", { cause: err });
  }
  // The module's routes and schedules exist only after the first Initialize, but
  // definePlugin compiled (empty) ones at load. A definition whose routes, router and
  // schedules read the current ones lets the SDK's service log and announce what was really
  // registered ("initialized" with the true route count). It inherits everything else,
  // the definition brand included, from the frozen `base`.
  const definition: PluginDefinition = Object.create(base, {
    routes: { enumerable: true, get: () => router?.routes ?? base.routes },
    router: { enumerable: true, get: () => router ?? base.router },
    schedules: { enumerable: true, get: () => schedules },
  });
  const log = definition.log;

  async function registerRoutes(): Promise<Router> {
    const mux = createRecordingMux(log);
    try {
      await mod.registerHTTP?.(mux);
    } catch (err) {
      throw fromHook("registerHTTP(mux)", file, err, "register routes with mux.handle(\"GET\", \"/path\", (req, res) => …)");
    }
    const table: Record<string, RouteHandler> = {};
    for (const route of mux.routes()) table[`${route.method} ${route.path}`] = toRouteHandler(route.handler, `${route.method} ${route.path}`, log);
    try {
      const router = createRouter(table, { pluginName: definition.metadata.name, log });
      log.info("routes registered", { routes: router.routes.length });
      return router;
    } catch (err) {
      throw fromHook("registerHTTP(mux)", file, err, "paths start with \"/\" and may hold :name or {name} segments");
    }
  }

  function notInitialized(): HTTPResponse {
    const body = { error: `plugin ${definition.metadata.name} has not been initialized`, hint: "routes are registered at the first Initialize; the host sends it when the plugin starts" };
    return { statusCode: 503, headers: [{ name: "content-type", values: ["application/json; charset=utf-8"] }], body: Buffer.from(JSON.stringify(body)) };
  }

  function wrapService(service: DomainPluginServiceServer): DomainPluginServiceServer {
    return {
      ...service,
      handleHttp: (call, callback) => answer(callback, GrpcStatus.INTERNAL, () => (router ? router.handle(call.request) : notInitialized())),
      registerGlyphs: (_call, callback) =>
        answer(callback, GrpcStatus.INTERNAL, async () => {
          try {
            return { glyphs: await glyphsOf(mod, log) };
          } catch (err) {
            log.error("registerGlyphs failed", { err });
            throw fromHook("registerGlyphs()", file, err, "return [{ symbol, title, label, content_path, css_path, default_width, default_height, module_path }]");
          }
        }),
    };
  }

  return { definition, wrapService };
}
