/**
 * Provider routing: which plugin serves each routed service (LLM, embedding, vector search,
 * search), as ADR-003 allows it — plugins never dial each other; the host serves the service
 * on its own port and forwards each call to the provider over the channel it already has to
 * that plugin (a provider serves the service beside DomainPluginService, as in QNTX).
 *
 * - A plugin is a provider of a service when its Initialize answer sets the service's flag
 *   (`llm_provider`, `embedding_provider`, `vector_search_provider`, `search_provider`).
 * - Two providers of one service: `[host] providers = { llm = "…" }` chooses; without it the
 *   first to start wins, and a warning names both. There is no silent failover to the other:
 *   a call goes to the chosen one or fails.
 * - The chosen provider must be `running` and answering Health; otherwise a call fails at once
 *   with UNAVAILABLE saying why, not after its deadline. Calls in flight when it leaves
 *   `running` (a crash, a pause, a stop) are cancelled with UNAVAILABLE at once. When it is
 *   back, calls go to it again.
 */
import { status, type Client } from "@grpc/grpc-js";
import type { InitializeResponse } from "@qntx/protocol";
import type { Logger } from "pino";
import { PROVIDER_ROLES, type ProviderRole } from "../config/types.js";
import type { DomainPlugin } from "../plugin/domain-plugin.js";
import type { PluginStateChange } from "../plugin/plugin-info.js";
import type { Registry } from "../plugin/registry.js";

/** The InitializeResponse flag that makes a plugin a provider of each routed service. */
export const PROVIDER_FLAG: Readonly<Record<ProviderRole, keyof InitializeResponse & `${string}Provider`>> = {
  llm: "llmProvider",
  embedding: "embeddingProvider",
  vector_search: "vectorSearchProvider",
  search: "searchProvider",
};

/** The flag's name on the wire, for messages (`llm_provider`). */
export function wireFlag(role: ProviderRole): string {
  return `${role}_provider`;
}

/** A call refused before it reached a provider: a gRPC status and a message. */
export class RouteError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = "RouteError";
  }
}

/** The provider a call goes to. */
export interface RoutedProvider {
  readonly name: string;
  readonly client: Client;
}

/** One routed service as `GET /api/plugins/services` shows it. */
export interface ServiceRoute {
  readonly role: ProviderRole;
  /** The provider calls go to now, or null when none. */
  readonly provider: string | null;
  /** How it was chosen. */
  readonly chosenBy: "config" | "first to start" | null;
  /** Every plugin that announced the flag, in the order they first started. */
  readonly candidates: readonly string[];
  /** The provider's state (null when there is none). */
  readonly state: string | null;
}

/** A call in flight on a provider: cancelled with a reason when the provider goes away. */
type InFlight = (reason: string) => void;

/** See the file comment. */
export class ProviderRouter {
  private readonly candidates = new Map<ProviderRole, string[]>(PROVIDER_ROLES.map((r) => [r, []]));
  private readonly inFlight = new Map<string, Set<InFlight>>();
  /** One generic client per live plugin connection (it shares the plugin's channel). */
  private readonly clients = new WeakMap<DomainPlugin, Client>();
  private readonly detach: () => void;

  constructor(
    private readonly registry: Registry,
    private readonly chosen: Readonly<Partial<Record<ProviderRole, string>>>,
    private readonly logger: Logger,
  ) {
    const onInitialized = ({ name }: { name: string }): void => this.announce(name, registry.announced(name));
    const onState = ({ name, state, reason }: PluginStateChange): void => {
      if (state !== "running") this.abandon(name, `provider ${name} is ${state}${reason ? ` (${reason})` : ""}`);
    };
    const onRemoved = ({ name }: { name: string }): void => this.announce(name, undefined);
    registry.on("plugin:initialized", onInitialized);
    registry.on("plugin:state", onState);
    registry.on("plugin:removed", onRemoved);
    this.detach = () => {
      registry.off("plugin:initialized", onInitialized);
      registry.off("plugin:state", onState);
      registry.off("plugin:removed", onRemoved);
    };
  }

  /**
   * The provider a call of `role` goes to: `requested` when it names a provider of that role
   * (LLMChatRequest.provider, as QNTX routes it; an unknown name falls back, as in QNTX), else
   * the configured one, else the first to start.
   * @throws RouteError UNAVAILABLE naming the flag to set, the provider's state, or its missed Health calls
   */
  resolve(role: ProviderRole, requested = ""): RoutedProvider {
    const candidates = this.candidates.get(role)!;
    const configured = this.chosen[role];
    const name = requested && candidates.includes(requested) ? requested : (configured ?? candidates[0]);
    if (name === undefined) {
      throw new RouteError(status.UNAVAILABLE, `no ${role.replace("_", " ")} provider: no plugin has set ${wireFlag(role)} in its InitializeResponse (a provider plugin sets it and serves the service on its own gRPC port)`);
    }
    if (!candidates.includes(name)) {
      const state = this.registry.get(name)?.state;
      throw new RouteError(status.UNAVAILABLE, state === undefined
        ? `[host] providers.${role} names "${name}", which is not a configured plugin`
        : `[host] providers.${role} names "${name}", which has not set ${wireFlag(role)} (it is ${state})`);
    }
    const plugin = this.registry.runningPlugin(name);
    if (!plugin) {
      throw new RouteError(status.UNAVAILABLE, `the ${role.replace("_", " ")} provider ${name} is ${this.registry.get(name)?.state ?? "gone"}: calls go to it again once it is running`);
    }
    const missed = this.registry.unansweredHealthChecks(name);
    if (missed > 0) throw new RouteError(status.UNAVAILABLE, `the ${role.replace("_", " ")} provider ${name} left its last ${missed} Health call(s) unanswered: it may be hung`);
    if (!plugin.serviceClient) throw new RouteError(status.UNAVAILABLE, `plugin ${name} is built in: it cannot serve ${role.replace("_", " ")} calls`);
    let client = this.clients.get(plugin);
    if (!client) {
      client = plugin.serviceClient();
      this.clients.set(plugin, client);
    }
    return { name, client };
  }

  /**
   * Whether calls of `role` go to a plugin: one is configured, or one has announced it (running
   * or not). SearchService answers from its built-in index only while this is false.
   */
  hasProvider(role: ProviderRole): boolean {
    return this.chosen[role] !== undefined || this.candidates.get(role)!.length > 0;
  }

  /** Registers a call in flight on `provider`; `cancel` is called if the provider goes away. Returns the deregistration. */
  track(provider: string, cancel: InFlight): () => void {
    let calls = this.inFlight.get(provider);
    if (!calls) this.inFlight.set(provider, (calls = new Set()));
    calls.add(cancel);
    return () => calls.delete(cancel);
  }

  /** Every routed service, its provider and the candidates. */
  routes(): ServiceRoute[] {
    return PROVIDER_ROLES.map((role) => {
      const candidates = [...this.candidates.get(role)!];
      const configured = this.chosen[role];
      const provider = configured ?? candidates[0] ?? null;
      return {
        role, provider, chosenBy: configured ? "config" : provider ? "first to start" : null, candidates,
        state: provider ? (this.registry.get(provider)?.state ?? null) : null,
      };
    });
  }

  /** Stops following the registry. */
  close(): void {
    this.detach();
  }

  /** Updates the roles of `name` from its latest Initialize answer (undefined: it left the config). */
  private announce(name: string, announced: InitializeResponse | undefined): void {
    for (const role of PROVIDER_ROLES) {
      const list = this.candidates.get(role)!;
      const has = list.includes(name);
      const wants = announced?.[PROVIDER_FLAG[role]] === true;
      if (wants && !has) {
        list.push(name);
        if (list.length > 1 && this.chosen[role] === undefined) {
          this.logger.warn({ role, providers: list },
            `two plugins provide ${role}: ${list[0]} (first to start, chosen) and ${list.slice(1).join(", ")}; set [host] providers = { ${role} = "…" } to choose`);
        } else {
          this.logger.info({ plugin: name, role }, `plugin ${name} provides ${role}`);
        }
      } else if (!wants && has) {
        list.splice(list.indexOf(name), 1);
      }
    }
  }

  /** Cancels the calls in flight on a provider that left `running`. */
  private abandon(provider: string, reason: string): void {
    const calls = this.inFlight.get(provider);
    if (!calls || calls.size === 0) return;
    this.logger.warn({ provider, calls: calls.size }, `cancelled routed calls: ${reason}`);
    for (const cancel of [...calls]) cancel(reason);
    calls.clear();
  }
}
