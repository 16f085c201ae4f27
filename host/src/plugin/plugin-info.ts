/**
 * What the host shows of a plugin and what it tells listeners: the `PluginInfo` snapshot the
 * control API serves, and the typed events the registry emits ({@link PluginEvents}) for the
 * job wiring, the WebSocket gateway, the host's log and, later, a dashboard and metrics.
 */
import type { InitializeResponse, RouteInfo } from "@qntx/protocol";
import type { PluginState } from "./state.js";

/** How a plugin reaches the host. */
export type PluginKind = "builtin" | "spawned" | "dialed";

/** Last known health of a plugin. */
export interface HealthSnapshot {
  /** False when the Health call itself failed (no answer within its deadline, connection lost). */
  readonly answered: boolean;
  readonly healthy: boolean;
  readonly message: string;
  readonly details: Readonly<Record<string, string>>;
  /** Epoch ms of the check. */
  readonly checkedAt: number;
}

/**
 * What the control API shows of a plugin (`GET /api/plugins`). Every field is always present
 * (null when unknown), so built-in and external plugins have the same shape in JSON.
 */
export interface PluginInfo {
  readonly name: string;
  readonly kind: PluginKind;
  readonly state: PluginState;
  readonly version: string | null;
  readonly description: string | null;
  readonly health: HealthSnapshot | null;
  readonly pid: number | null;
  readonly address: string | null;
  readonly routes: readonly RouteInfo[];
  readonly handlerNames: readonly string[];
  /**
   * The provider roles its last Initialize announced, as QNTX's banner names them:
   * `llm-provider`, `embedding-provider`, `vector-search-provider`, `search-provider`,
   * `python-provider` (empty before its first Initialize).
   */
  readonly roles: readonly string[];
  /** Why the plugin is `failed` (or why its last start failed). */
  readonly error: string | null;
  /** What to do about `error`, when the failure came with a hint (a QntxError's, or the plugin's own). */
  readonly hint: string | null;
  /** Epoch ms at which it became `running`. */
  readonly startedAt: number | null;
  /** Times it went to `restarting` since the host started (a person's restarts and crashes). */
  readonly restarts: number;
}

/** A plugin moved from `previous` to `state` (only moves transitions.ts lists; never to the same state). */
export interface PluginStateChange {
  readonly name: string;
  readonly state: PluginState;
  readonly previous: PluginState;
  /**
   * Why, when the plugin is now `failed` or `restarting` after a crash: the error it shows.
   * Absent for what a person asked (start, stop, restart, pause, resume): a listener tells a
   * crash from a restart by it.
   */
  readonly reason?: string;
}

/**
 * The registry's events, as a map for node's typed `EventEmitter<PluginEvents>`: every
 * listener gets one object. Emitted synchronously, after the change is visible through the
 * registry's lookups.
 */
export interface PluginEvents {
  /** A configured plugin became known (at boot, or added by a reload), in state `stopped`. */
  "plugin:added": [event: { readonly name: string; readonly kind: PluginKind }];
  /** A plugin changed state. */
  "plugin:state": [event: PluginStateChange];
  /**
   * A plugin answered Initialize (a start, a restart, or a re-configuration): what it announced
   * (routes, handlers, schedules, watchers) may have changed; `Registry.announced` has it.
   */
  "plugin:initialized": [event: { readonly name: string }];
  /** A Health call of a running plugin ended (answered, or not: see `health.answered`). */
  "plugin:health": [event: { readonly name: string; readonly health: HealthSnapshot }];
  /** A plugin left the config (reload): it was stopped and is forgotten. */
  "plugin:removed": [event: { readonly name: string }];
}

/** The provider flags of InitializeResponse, by the role name QNTX's banner shows for each. */
export const PROVIDER_FLAGS = [
  ["llm-provider", "llmProvider"],
  ["embedding-provider", "embeddingProvider"],
  ["vector-search-provider", "vectorSearchProvider"],
  ["search-provider", "searchProvider"],
  ["python-provider", "pythonProvider"],
] as const satisfies ReadonlyArray<readonly [string, keyof InitializeResponse]>;

/** The roles an Initialize answer announces (see {@link PluginInfo.roles}). */
export function providerRoles(announced: InitializeResponse | undefined): string[] {
  return announced ? PROVIDER_FLAGS.filter(([, flag]) => announced[flag] === true).map(([role]) => role) : [];
}
