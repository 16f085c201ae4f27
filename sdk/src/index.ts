/**
 * @qntx/sdk: write qntx / QNTX domain plugins in TypeScript.
 *
 * @example
 * import { definePlugin, serve } from "@qntx/sdk";
 * serve(definePlugin({
 *   metadata: { name: "hello", version: "0.1.0" },
 *   routes: { "GET /hello": (req) => ({ message: `Hello, ${req.query.get("name") ?? "world"}!` }) },
 * }));
 */
export { definePlugin, isPluginDefinition, PLUGIN_NAME_RE, type PluginDefinition } from "./define.js";
export { serve, type ServeOptions } from "./serve.js";
export { startPlugin, joinHostPort, type PluginHandle, type StartOptions } from "./grpc-server.js";
export { parsePluginArgs, type PluginArgs } from "./args.js";
export { transportFromEnv, serverCredentials, TLS_ENV, type ServerTls, type TransportChoice } from "./transport.js";
export { hostChannelFromEnv, HOST_TLS_ENV, type HostChannel } from "./clients/host-tls.js";
export { createRouter, type Router, type RouteMatch, type RouterOptions } from "./router.js";
export type { PluginRequest } from "./request.js";
export { json, text, reply, isPluginResponse, type PluginResponse, type ResponseHeaders, type ResponseInit, type ReplyInit } from "./response.js";
export { HttpError, isHttpError } from "./errors.js";
export { log, createLogger, type Logger, type LogLevel, type LogFields, type LoggerOptions } from "./log.js";
export { resolveConfig, toConfigSchemaResponse } from "./config.js";
export { createDomainService, type ServiceHooks } from "./domain-service.js";
export { PluginRuntime } from "./runtime.js";
export { decodePayload, encodeResult, MAX_JOB_LOG_ENTRIES } from "./jobs.js";
export { PROGRESS_MIN_INTERVAL_MS } from "./progress.js";
export { CommandError, EXIT_USAGE, MAX_COMMAND_OUTPUT_BYTES, compileCommands, commandsResponse, resolveFlags, runCommand, type CompiledCommand } from "./commands.js";
export { createAtsClient, type AtsClient, type AttestationInput, type WatchOptions } from "./clients/ats-client.js";
export { createQueueClient, type QueueClient, type QueueClientOptions, type EnqueueInput, type ListJobsInput } from "./clients/queue-client.js";
export { createScheduleClient, type ScheduleClient, type ScheduleInput } from "./clients/schedule-client.js";
export { createFileClient, type FileClient, type HostFile } from "./clients/file-client.js";
export { createFetchClient, type FetchClient, type FetchInput, type FetchResult } from "./clients/fetch-client.js";
export { createSearchClient, type SearchClient, type SearchQuery, type SearchResult, type SearchHitResult, type IndexSettings } from "./clients/search-client.js";
export { createLlmClient, chatRequest, DEFAULT_LLM_TIMEOUT_MS, type LlmClient, type ChatInput } from "./clients/llm-client.js";
export { createEmbeddingClient, type EmbeddingClient } from "./clients/embedding-client.js";
export { createVectorsClient, type VectorsClient } from "./clients/vectors-client.js";
export { ProviderError, providerFlags, type ProviderDefs, type ProviderContext, type LlmProvider, type EmbeddingProvider, type VectorsProvider, type SearchProvider } from "./providers.js";
export { HostServiceError, isHostServiceError, DEFAULT_HOST_CALL_TIMEOUT_MS, type HostCallOptions, type HostClientOptions } from "./clients/call.js";
export type { WebSocketSession, WebSocketEvents, WebSocketHandler, WebSocketCloseInfo, WebSocketResize } from "./websocket.js";
export { currentTrace, type TraceContext } from "./trace.js";
export { formatTraceparent } from "@qntx/protocol";
export { domainServiceDefinition, encodeWebSocketFrame, decodeWebSocketFrame, nowNs, type WebSocketFrame } from "@qntx/protocol";
export type {
  PluginDef,
  PluginMetadata,
  InitContext,
  HostServices,
  RouteContext,
  ServiceEndpoints,
  RouteHandler,
  RouteSpec,
  HealthStatus,
  ConfigField,
  ConfigFieldType,
  JobHandler,
  JobContext,
  JobLog,
  JobLogOptions,
  ScheduleDef,
  WatcherDef,
  CommandDef,
  CommandFlagDef,
  CommandFlagType,
  CommandFlags,
  CommandOutput,
  CommandContext,
  CommandResult,
} from "./types.js";
