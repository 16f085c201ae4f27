/**
 * The state a served plugin keeps between RPCs: the config of the latest `Initialize`, the
 * host service clients, and the handlers registered dynamically during `Initialize`.
 */
import type { InitializeRequest } from "@qntx/protocol";
import { createAtsClient, type AtsClient } from "./clients/ats-client.js";
import { createQueueClient, type QueueClient } from "./clients/queue-client.js";
import { hostChannelFromEnv, type HostChannel } from "./clients/host-tls.js";
import { resolveConfig } from "./config.js";
import type { PluginDefinition } from "./define.js";
import type { JobHandler } from "./types.js";
import type { WebSocketSession } from "./websocket.js";

/** A handler found by {@link PluginRuntime.findHandler}, with its name as registered. */
export interface FoundHandler {
  name: string;
  handler: JobHandler;
}

/** Mutable state behind a plugin's `DomainPluginService`. One per served plugin. */
export class PluginRuntime {
  /** Config of the latest successful `Initialize`; schema defaults until then. */
  config: Record<string, string>;
  ats: AtsClient | undefined;
  queue: QueueClient | undefined;
  /** Open WebSocket sessions; closed when the plugin stops. */
  readonly websockets = new Set<WebSocketSession>();
  private dynamicHandlers = new Map<string, JobHandler>();
  // What the current clients were built from: a re-Initialize with the same endpoint and
  // token keeps them (and their channels).
  private atsKey = "";
  private queueKey = "";
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
    const atsKey = request.atsStoreEndpoint ? `${request.atsStoreEndpoint}\n${request.authToken}` : "";
    if (atsKey !== this.atsKey) {
      this.ats?.close();
      this.ats = atsKey ? createAtsClient(request.atsStoreEndpoint, request.authToken, channel) : undefined;
      this.atsKey = atsKey;
    }
    const queueKey = request.queueEndpoint ? `${request.queueEndpoint}\n${request.authToken}` : "";
    if (queueKey !== this.queueKey) {
      this.queue?.close();
      this.queue = queueKey ? createQueueClient(request.queueEndpoint, request.authToken, { source: this.def.metadata.name, ...channel }) : undefined;
      this.queueKey = queueKey;
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
    this.ats?.close();
    this.queue?.close();
    this.ats = undefined;
    this.queue = undefined;
    this.atsKey = this.queueKey = "";
  }
}
