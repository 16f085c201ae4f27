/**
 * The `DomainPluginService` implementation the SDK serves for a plugin definition: what each
 * RPC does. `grpc-server.ts` binds it to a gRPC server; `serve.ts` makes that a process.
 */
import { status as GrpcStatus, type sendUnaryData } from "@grpc/grpc-js";
import { InitializeResponse, type DomainPluginServiceServer, type ExecuteCommandResponse, type ExecuteJobResponse, type HealthResponse, type InitializeRequest } from "@qntx/protocol";
import { commandsResponse, runCommand } from "./commands.js";
import { resolveConfig, toConfigSchemaResponse } from "./config.js";
import { checkHandlerName, type PluginDefinition } from "./define.js";
import { runJob } from "./jobs.js";
import { providerFlags } from "./providers.js";
import { PluginRuntime } from "./runtime.js";
import type { InitContext, JobHandler } from "./types.js";
import { inCallTrace } from "./trace.js";
import { acceptWebSocket } from "./websocket.js";

/** Hooks the server gives the service. */
export interface ServiceHooks {
  /** Called once the `Shutdown` RPC has been answered: run the hook and stop serving. */
  onShutdownRequested(): void;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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

function initContext(def: PluginDefinition, runtime: PluginRuntime, request: InitializeRequest, config: Record<string, string>, dynamic: Map<string, JobHandler>, isOpen: () => boolean): InitContext {
  return {
    config,
    authToken: request.authToken,
    endpoints: {
      ats: request.atsStoreEndpoint,
      queue: request.queueEndpoint,
      schedule: request.scheduleEndpoint,
      fileService: request.fileServiceEndpoint,
      llm: request.llmEndpoint,
      embedding: request.embeddingEndpoint,
      vectorSearch: request.vectorSearchEndpoint,
      ground: request.groundEndpoint,
      search: request.searchEndpoint,
      fetch: request.fetchEndpoint,
    },
    log: def.log,
    ...runtime.services,
    registerHandler(name: string, handler: JobHandler) {
      checkHandlerName(name, "registerHandler");
      if (typeof handler !== "function") throw new TypeError(`registerHandler: handler ${name} must be a function`);
      if (def.handlers.has(name)) throw new TypeError(`registerHandler: ${name} is already a static handler of plugin ${def.metadata.name}`);
      // Its name would never be announced: the Initialize answer is gone.
      if (!isOpen()) throw new Error(`registerHandler(${name}) called after initialize finished; register handlers before it returns`);
      dynamic.set(name, handler);
    },
  };
}

/** Runs the plugin's `initialize` for `request` and makes its outcome current. */
async function initialize(def: PluginDefinition, runtime: PluginRuntime, request: InitializeRequest): Promise<InitializeResponse> {
  const dynamic = new Map<string, JobHandler>();
  let open = true;
  try {
    const config = resolveConfig(request.config ?? {}, def.configSchema);
    runtime.connect(request);
    await def.initialize?.(initContext(def, runtime, request, config, dynamic, () => open));
    runtime.commit(config, dynamic);
  } catch (err) {
    def.log.error("initialize failed", { err });
    throw err;
  } finally {
    open = false;
  }
  const handlerNames = runtime.handlerNames();
  def.log.info("initialized", { routes: def.routes.length, handlers: handlerNames.length });
  return InitializeResponse.fromPartial({
    handlerNames,
    schedules: def.schedules.map((schedule) => ({ ...schedule })),
    watchers: def.watchers.map((watcher) => ({ ...watcher })),
    httpRoutes: def.routes.map((route) => ({ ...route })),
    ...providerFlags(def.provides),
  });
}

async function health(def: PluginDefinition): Promise<HealthResponse> {
  if (!def.health) return { healthy: true, message: "", details: {} };
  try {
    const result = await def.health();
    const details: Record<string, string> = {};
    for (const [key, value] of Object.entries(result?.details ?? {})) details[key] = String(value);
    return { healthy: result?.healthy === true, message: result?.message ?? "", details };
  } catch (err) {
    // A health hook that throws is itself a health problem, not an RPC failure.
    return { healthy: false, message: `health check threw: ${messageOf(err)}`, details: {} };
  }
}

/**
 * Builds the grpc-js implementation of every `DomainPluginService` RPC for `def`. Register it
 * with `domainServiceDefinition` (exact int64 WebSocket timestamps), not the generated one.
 * `runtime` holds the state between calls (config, host clients, dynamic handlers); pass
 * your own to close its clients when you stop serving (`startPlugin` does).
 */
export function createDomainService(def: PluginDefinition, hooks: ServiceHooks, runtime: PluginRuntime = new PluginRuntime(def)): DomainPluginServiceServer {
  const { metadata } = def;
  return {
    metadata: (_call, callback) => callback(null, { ...metadata }),

    initialize: (call, callback) => answer(callback, GrpcStatus.INTERNAL, () => initialize(def, runtime, call.request)),

    shutdown: (_call, callback) => {
      callback(null, {});
      // After the answer is queued: the server's graceful stop then waits for it to flush.
      setImmediate(() => hooks.onShutdownRequested());
    },

    handleHttp: (call, callback) => answer(callback, GrpcStatus.INTERNAL, () => inCallTrace(call.metadata, () => def.router.handle(call.request, runtime.routeContext))),

    handleWebSocket: (call) => {
      if (def.websocket) return acceptWebSocket(call as unknown as Parameters<typeof acceptWebSocket>[0], def.websocket, runtime.websockets, def.log);
      // Ending the stream with a status (rather than leaving it open) tells the host at once.
      call.emit("error", { code: GrpcStatus.UNIMPLEMENTED, details: `plugin ${metadata.name} does not handle WebSocket connections` });
    },

    health: (_call, callback) => answer(callback, GrpcStatus.INTERNAL, () => health(def)),

    configSchema: (_call, callback) => callback(null, toConfigSchemaResponse(def.configSchema)),

    registerGlyphs: (_call, callback) => callback(null, { glyphs: [] }),

    executeJob: (call, callback) => {
      // Application errors travel in the body (docs/protocol.md §5): status OK.
      // grpc-js emits `cancelled` on every call once its trailers are sent, so without the
      // `finished` guard each completed job would abort its signal (and run its listeners).
      let finished = false;
      answer<ExecuteJobResponse>((err, value) => {
        finished = true;
        callback(err, value);
      }, GrpcStatus.INTERNAL, () =>
        inCallTrace(call.metadata, () => runJob(def, runtime, call.request, (cancel) => {
          if (call.cancelled) cancel();
          else call.once("cancelled", () => !finished && cancel());
        })),
      );
    },

    parseAxQuery: (_call, callback) => callback(null, { result: Buffer.alloc(0), error: "ParseAxQuery is not supported by this plugin" }),

    // Not in QNTX's current proto. A plugin without commands answers an empty list.
    commands: (_call, callback) => callback(null, commandsResponse(def.commands)),

    executeCommand: (call, callback) => {
      // The command's failures travel in the answer (exit code, stderr); the same end-of-call
      // `cancelled` guard as executeJob keeps a finished command's signal from aborting.
      const cancelled = new AbortController();
      let finished = false;
      call.once("cancelled", () => {
        if (!finished) cancelled.abort();
      });
      answer<ExecuteCommandResponse>((err, value) => {
        finished = true;
        callback(err, value);
      }, GrpcStatus.INTERNAL, () => runCommand(def, runtime, call.request, cancelled.signal));
    },
  };
}
