/**
 * The state a served plugin keeps between RPCs: the config of the latest `Initialize`, the
 * host service clients, and the handlers registered dynamically during `Initialize`.
 */
import type { InitializeRequest } from "@qntx/protocol";
import { currentTrace } from "./trace.js";
import { createAtsClient, type AtsClient } from "./clients/ats-client.js";
import type { HostClientOptions } from "./clients/call.js";
import { createEmbeddingClient } from "./clients/embedding-client.js";
import { createFetchClient } from "./clients/fetch-client.js";
import { createFileClient } from "./clients/file-client.js";
import { createLlmClient } from "./clients/llm-client.js";
import { createQueueClient, type QueueClient } from "./clients/queue-client.js";
import { createScheduleClient } from "./clients/schedule-client.js";
import { createSearchClient } from "./clients/search-client.js";
import { createVectorsClient } from "./clients/vectors-client.js";
import { hostChannelFromEnv, type HostChannel } from "./clients/host-tls.js";
import { resolveConfig } from "./config.js";
import type { PluginDefinition } from "./define.js";
import type { HostServices, JobHandler, RouteContext } from "./types.js";
import type { WebSocketSession } from "./websocket.js";

/** How each host service client is made: its `InitializeRequest` endpoint field and constructor. */
const CLIENTS: { readonly [K in keyof HostServices]-?: readonly [field: keyof InitializeRequest, make: (endpoint: string, token: string, options: HostClientOptions, plugin: string) => NonNullable<HostServices[K]>] } = {
  ats: ["atsStoreEndpoint", (e, t, o) => createAtsClient(e, t, o)],
  queue: ["queueEndpoint", (e, t, o, plugin) => createQueueClient(e, t, { source: plugin, ...o })],
  schedule: ["scheduleEndpoint", (e, t, o) => createScheduleClient(e, t, o)],
  files: ["fileServiceEndpoint", (e, t, o) => createFileClient(e, t, o)],
  fetch: ["fetchEndpoint", (e, t, o, plugin) => createFetchClient(e, t, { source: plugin, ...o })],
  search: ["searchEndpoint", (e, t, o) => createSearchClient(e, t, o)],
  llm: ["llmEndpoint", (e, t, o) => createLlmClient(e, t, o)],
  embedding: ["embeddingEndpoint", (e, t, o) => createEmbeddingClient(e, t, o)],
  vectors: ["vectorSearchEndpoint", (e, t, o) => createVectorsClient(e, t, o)],
};

/** A handler found by {@link PluginRuntime.findHandler}, with its name as registered. */
export interface FoundHandler {
  name: string;
  handler: JobHandler;
}

/** Mutable state behind a plugin's `DomainPluginService`. One per served plugin. */
export class PluginRuntime {
  /** Config of the latest successful `Initialize`; schema defaults until then. */
  config: Record<string, string>;
  /**
   * The host's services, one client each (`undefined` when the host offers none). The same
   * object for the plugin's whole life: contexts made from it see later re-Initializes.
   */
  readonly services: { -readonly [K in keyof HostServices]: HostServices[K] } = { ats: undefined, queue: undefined, schedule: undefined, files: undefined, fetch: undefined, search: undefined, llm: undefined, embedding: undefined, vectors: undefined };
  /** What route handlers get as their second argument (see RouteContext). */
  readonly routeContext: RouteContext;
  /** Open WebSocket sessions; closed when the plugin stops. */
  readonly websockets = new Set<WebSocketSession>();
  private dynamicHandlers = new Map<string, JobHandler>();
  // What each client was built from: a re-Initialize with the same endpoint and token keeps it
  // (and its channel).
  private readonly keys = new Map<keyof HostServices, string>();
  private closed = false;
  /** How the host's services are dialed (QNTX_HOST_TLS_*), read at the first Initialize. */
  private hostChannel: HostChannel | undefined;

  constructor(private readonly def: PluginDefinition) {
    try {
      this.config = resolveConfig({}, def.configSchema);
    } catch {
      // A required key without default: jobs before Initialize see what there is.
      this.config = {};
    }
    const runtime = this;
    this.routeContext = Object.create(this.services, {
      config: { get: () => runtime.config, enumerable: true },
      log: { value: def.log, enumerable: true },
      // Per request, though the context object is shared: read from the trace the call runs in.
      trace: { get: () => currentTrace(), enumerable: true },
    }) as RouteContext;
  }

  /** The host's attestation store (`services.ats`). */
  get ats(): AtsClient | undefined {
    return this.services.ats;
  }

  /** The host's job queue (`services.queue`). */
  get queue(): QueueClient | undefined {
    return this.services.queue;
  }

  /**
   * Builds (or keeps) the clients for the endpoints and token of `request`. An empty
   * endpoint leaves the client undefined. Clients of other endpoints are closed.
   */
  connect(request: InitializeRequest): void {
    if (this.closed) return;
    // Throws (failing Initialize with the reason) when QNTX_HOST_TLS_* is incomplete or unreadable.
    this.hostChannel ??= hostChannelFromEnv();
    const channel = { credentials: this.hostChannel.credentials, channelOptions: this.hostChannel.options };
    for (const [name, [field, make]] of Object.entries(CLIENTS) as Array<[keyof HostServices, (typeof CLIENTS)[keyof HostServices]]>) {
      const endpoint = request[field] as string;
      const key = endpoint ? `${endpoint}\n${request.authToken}` : "";
      if (key === (this.keys.get(name) ?? "")) continue;
      this.services[name]?.close();
      (this.services as Record<keyof HostServices, unknown>)[name] = key ? make(endpoint, request.authToken, channel, this.def.metadata.name) : undefined;
      this.keys.set(name, key);
    }
  }

  /** Makes the outcome of a successful `Initialize` current. */
  commit(config: Record<string, string>, dynamicHandlers: Map<string, JobHandler>): void {
    this.config = config;
    this.dynamicHandlers = dynamicHandlers;
  }

  /** Static handler names, then dynamic ones, as announced in `handler_names`. */
  handlerNames(): string[] {
    return [...this.def.handlers.keys(), ...this.dynamicHandlers.keys()];
  }

  /** The handler for `name`, also in the `<plugin>/<name>` form. */
  findHandler(name: string): FoundHandler | undefined {
    const exact = this.lookup(name);
    if (exact) return { name, handler: exact };
    const prefix = `${this.def.metadata.name}/`;
    if (name.startsWith(prefix)) {
      const raw = name.slice(prefix.length);
      const handler = this.lookup(raw);
      if (handler) return { name: raw, handler };
    }
    return undefined;
  }

  private lookup(name: string): JobHandler | undefined {
    return this.def.handlers.get(name) ?? this.dynamicHandlers.get(name);
  }

  /** Closes every open WebSocket session (CLOSE with `code`, then the end of its stream). */
  closeWebSockets(code = 1001, reason = "plugin shutting down"): void {
    for (const session of [...this.websockets]) session.close(code, reason);
  }

  /** Closes the clients' channels. Idempotent. */
  close(): void {
    this.closed = true;
    for (const name of Object.keys(this.services) as Array<keyof HostServices>) {
      this.services[name]?.close();
      this.services[name] = undefined;
    }
    this.keys.clear();
  }
}
