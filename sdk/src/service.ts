/**
 * The `DomainPluginService` implementation the SDK serves for a plugin definition.
 */
import { status as GrpcStatus, type sendUnaryData } from "@grpc/grpc-js";
import {
  ExecuteJobResponse,
  InitializeResponse,
  type DomainPluginServiceServer,
  type HealthResponse,
  type InitializeRequest,
} from "@qntx/protocol";
import { resolveConfig, toConfigSchemaResponse } from "./config.js";
import type { PluginDefinition } from "./define.js";
import type { InitContext } from "./types.js";

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

function initContext(def: PluginDefinition, request: InitializeRequest): InitContext {
  return {
    config: resolveConfig(request.config ?? {}, def.configSchema),
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
  };
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

/** Builds the grpc-js implementation of every `DomainPluginService` RPC for `def`. */
export function createDomainService(def: PluginDefinition, hooks: ServiceHooks): DomainPluginServiceServer {
  const { metadata } = def;
  return {
    metadata: (_call, callback) => callback(null, { ...metadata }),

    initialize: (call, callback) =>
      answer(callback, GrpcStatus.INTERNAL, async () => {
        try {
          await def.initialize?.(initContext(def, call.request));
        } catch (err) {
          def.log.error("initialize failed", { err });
          throw err;
        }
        def.log.info("initialized", { routes: def.routes.length });
        return InitializeResponse.fromPartial({ handlerNames: [], httpRoutes: def.routes.map((route) => ({ ...route })) });
      }),

    shutdown: (_call, callback) => {
      callback(null, {});
      // After the answer is queued: the server's graceful stop then waits for it to flush.
      setImmediate(() => hooks.onShutdownRequested());
    },

    handleHttp: (call, callback) => answer(callback, GrpcStatus.INTERNAL, () => def.router.handle(call.request)),

    handleWebSocket: (call) => {
      // Ending the stream with a status (rather than leaving it open) tells the host at once.
      call.emit("error", { code: GrpcStatus.UNIMPLEMENTED, details: `plugin ${metadata.name} does not handle WebSocket connections` });
    },

    health: (_call, callback) => answer(callback, GrpcStatus.INTERNAL, () => health(def)),

    configSchema: (_call, callback) => callback(null, toConfigSchemaResponse(def.configSchema)),

    registerGlyphs: (_call, callback) => callback(null, { glyphs: [] }),

    executeJob: (call, callback) =>
      // Application errors travel in the body (PROTOCOL.md, error convention): status OK.
      callback(
        null,
        ExecuteJobResponse.fromPartial({
          success: false,
          error: `no job handler named ${call.request.handlerName} in plugin ${metadata.name}`,
          pluginVersion: metadata.version,
        }),
      ),

    parseAxQuery: (_call, callback) => callback(null, { result: Buffer.alloc(0), error: "ParseAxQuery is not supported by this plugin" }),
  };
}
