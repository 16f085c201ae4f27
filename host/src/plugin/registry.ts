/**
 * Registry: the host's table of plugins, built-in and external alike. It owns each plugin's
 * state (see state.ts), its metadata, announced routes and handlers and last health, and it
 * performs the steps that are the same for every kind of plugin: the name and `qntx_version`
 * checks, Initialize, health checks and Shutdown.
 */
import { EventEmitter } from "node:events";
import { QntxError, type InitializeRequest, type InitializeResponse, type MetadataResponse, type RouteInfo } from "@qntx/protocol";
import type { DomainPlugin } from "./domain-plugin.js";
import type { PluginState } from "./state.js";
import { checkQntxVersion } from "./version.js";
import { compareNames } from "./name-order.js";

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
  /** Why the plugin is `failed` (or why its last start failed). */
  readonly error: string | null;
  /** What to do about `error`, when the failure came with a hint (a QntxError's, or the plugin's own). */
  readonly hint: string | null;
  /** Epoch ms at which it became `running`. */
  readonly startedAt: number | null;
}

interface PluginRecord {
  name: string;
  kind: PluginKind;
  state: PluginState;
  plugin: DomainPlugin | undefined;
  metadata: MetadataResponse | undefined;
  routes: RouteInfo[];
  handlerNames: string[];
  /** The whole InitializeResponse of the current run (schedules, watchers, providers). */
  announced: InitializeResponse | undefined;
  health: HealthSnapshot | undefined;
  /** Consecutive Health calls of the current run that got no answer (0 once one is answered). */
  unanswered: number;
  pid: number | undefined;
  address: string | undefined;
  error: string | undefined;
  hint: string | undefined;
  startedAt: number | undefined;
}

/**
 * Events: `state` (name, state, previous) whenever a plugin changes state; `initialized`
 * (name) after every successful Initialize (a start, a restart or a re-configuration), when
 * what the plugin announced may have changed; `removed` (name) when the config drops it.
 */
export class Registry extends EventEmitter {
  private readonly records = new Map<string, PluginRecord>();

  constructor(private readonly hostVersion: string) {
    super();
  }

  /** Makes a plugin known (from config) in state `stopped`, without a connection yet. */
  declare(name: string, kind: PluginKind): void {
    if (!this.records.has(name)) {
      this.records.set(name, {
        name, kind, state: "stopped", plugin: undefined, metadata: undefined, routes: [], handlerNames: [], announced: undefined,
        health: undefined, unanswered: 0, pid: undefined, address: undefined, error: undefined, hint: undefined, startedAt: undefined,
      });
    }
  }

  /** Changes how a stopped plugin reaches the host (its config entry changed). */
  declareKind(name: string, kind: PluginKind): void {
    this.require(name).kind = kind;
  }

  /** Forgets a plugin removed from the config (stopped first); emits `removed` (name). */
  forget(name: string): void {
    const record = this.records.get(name);
    if (!record) return;
    record.plugin?.close?.();
    this.records.delete(name);
    this.emit("removed", name);
  }

  /** Attaches a live plugin (in process or a proxy) to its entry; the state becomes `loading`. */
  register(name: string, plugin: DomainPlugin, info: { kind: PluginKind; pid?: number; address?: string }): void {
    this.declare(name, info.kind);
    const record = this.require(name);
    record.plugin?.close?.();
    Object.assign(record, {
      kind: info.kind, plugin, pid: info.pid, address: info.address, metadata: undefined, routes: [],
      handlerNames: [], announced: undefined, health: undefined, unanswered: 0, error: undefined, hint: undefined, startedAt: undefined,
    });
    this.setState(name, "loading");
  }

  /**
   * Checks the plugin's name and `qntx_version`, calls Initialize and marks it `running`.
   * On any failure the plugin is marked `failed` with the reason and the error is rethrown.
   */
  async initialize(name: string, request: InitializeRequest, timeoutMs: number): Promise<void> {
    const record = this.require(name);
    const plugin = record.plugin;
    if (!plugin) throw new QntxError("PLUGIN_UNAVAILABLE", `plugin ${name} is not connected`);
    try {
      const metadata = await plugin.metadata({ deadline: Date.now() + timeoutMs });
      if (metadata.name !== name) {
        throw new QntxError("WRONG_NAME", `plugin configured as "${name}" reports its name as "${metadata.name}"`, {
          hint: `rename the [plugins.${name}] table to [plugins.${metadata.name}], or point it at the right binary/address`,
        });
      }
      checkQntxVersion(name, metadata.qntxVersion, this.hostVersion);
      const response = await plugin.initialize(request, { deadline: Date.now() + timeoutMs });
      record.metadata = metadata;
      record.routes = response.httpRoutes;
      record.handlerNames = response.handlerNames;
      record.announced = response;
      record.startedAt = Date.now();
      record.error = undefined;
      record.hint = undefined;
      this.setState(name, "running");
      this.emit("initialized", name);
    } catch (error) {
      this.fail(name, error);
      throw error;
    }
  }

  /** Initializes every registered plugin that is `loading`, concurrently; failures are recorded, not thrown. */
  async initializeAll(requestFor: (name: string) => InitializeRequest, timeoutMs: number): Promise<void> {
    const loading = [...this.records.values()].filter((r) => r.state === "loading" && r.plugin);
    await Promise.allSettled(loading.map((r) => this.initialize(r.name, requestFor(r.name), timeoutMs)));
  }

  /** Calls Health on every running plugin, concurrently; a throw or timeout counts as unhealthy. */
  async healthCheckAll(timeoutMs: number): Promise<Map<string, HealthSnapshot>> {
    const running = [...this.records.values()].filter((r) => r.state === "running" && r.plugin);
    await Promise.all(running.map((r) => this.checkHealth(r, timeoutMs)));
    return new Map(running.flatMap((r) => (r.health ? [[r.name, r.health] as const] : [])));
  }

  /**
   * Sends Shutdown (bounded by `timeoutMs`, errors ignored: the plugin may already be gone),
   * closes the connection and marks the plugin `stopped`. Idempotent. With `detach`, no
   * Shutdown is sent: the connection is only closed (a dialed plugin's process is not ours
   * to end, and a QNTX plugin exits on Shutdown).
   */
  async shutdown(name: string, timeoutMs: number, options: { detach?: boolean } = {}): Promise<void> {
    const record = this.records.get(name);
    if (!record?.plugin) {
      if (record) this.setState(name, "stopped");
      return;
    }
    const plugin = record.plugin;
    record.plugin = undefined;
    try {
      if (!options.detach) await plugin.shutdown({ deadline: Date.now() + timeoutMs });
    } catch {
      // A plugin that is gone or hangs in Shutdown is stopped by its process manager.
    } finally {
      plugin.close?.();
      record.pid = undefined;
      record.health = undefined;
      record.unanswered = 0;
      this.setState(name, "stopped");
    }
  }

  /** Shuts every plugin down, concurrently. */
  async shutdownAll(timeoutMs: number): Promise<void> {
    await Promise.all([...this.records.keys()].map((name) => this.shutdown(name, timeoutMs)));
  }

  /** Marks a plugin `failed` with the reason and drops its connection. */
  fail(name: string, error: unknown): void {
    const record = this.records.get(name);
    if (!record) return;
    record.error = error instanceof Error ? error.message : String(error);
    // A QntxError carries one; so does EXITED_BEFORE_PORT when the plugin printed a `hint:` line.
    const hint = (error as { hint?: unknown } | null)?.hint;
    record.hint = typeof hint === "string" && hint ? hint : undefined;
    record.plugin?.close?.();
    record.plugin = undefined;
    // Its process is gone (or going): neither its pid nor its last health says anything now.
    record.pid = undefined;
    record.health = undefined;
    record.unanswered = 0;
    this.setState(name, "failed");
  }

  /** Changes a plugin's state and emits `state`. */
  setState(name: string, state: PluginState): void {
    const record = this.require(name);
    const previous = record.state;
    record.state = state;
    if (previous !== state) this.emit("state", name, state, previous);
  }

  /**
   * Consecutive Health calls the running plugin left unanswered (no answer within the deadline,
   * or its connection is gone); 0 while it answers. A plugin above 0 is `running` but hung: the
   * gateway answers 503 for it and Pulse claims none of its jobs until it answers again, or
   * `health_failures` misses get it restarted.
   */
  unansweredHealthChecks(name: string): number {
    return this.records.get(name)?.unanswered ?? 0;
  }

  /** The live plugin behind a name, only while it is `running`. */
  runningPlugin(name: string): DomainPlugin | undefined {
    const record = this.records.get(name);
    return record?.state === "running" ? record.plugin : undefined;
  }

  /** What the plugin announced in its last successful Initialize (handlers, schedules, watchers). */
  announced(name: string): InitializeResponse | undefined {
    return this.records.get(name)?.announced;
  }

  /** Whether a plugin of that name is configured or registered. */
  has(name: string): boolean {
    return this.records.has(name);
  }

  /** A snapshot of one plugin, or undefined. */
  get(name: string): PluginInfo | undefined {
    const record = this.records.get(name);
    return record && toInfo(record);
  }

  /** Snapshots of every plugin, sorted by name. */
  list(): PluginInfo[] {
    return [...this.records.values()].sort((a, b) => compareNames(a.name, b.name)).map(toInfo);
  }

  private async checkHealth(record: PluginRecord, timeoutMs: number): Promise<void> {
    const plugin = record.plugin;
    if (!plugin) return;
    let health: HealthSnapshot;
    try {
      const answer = await plugin.health({ deadline: Date.now() + timeoutMs });
      health = { answered: true, healthy: answer.healthy, message: answer.message, details: answer.details, checkedAt: Date.now() };
    } catch (error) {
      health = { answered: false, healthy: false, message: error instanceof Error ? error.message : String(error), details: {}, checkedAt: Date.now() };
    }
    // The plugin was stopped or restarted meanwhile: this answer is about a run that is over.
    if (record.plugin !== plugin) return;
    record.health = health;
    record.unanswered = health.answered ? 0 : record.unanswered + 1;
  }

  private require(name: string): PluginRecord {
    const record = this.records.get(name);
    if (!record) throw new QntxError("PLUGIN_NOT_FOUND", `no plugin named ${name}`, { hint: "`qntx plugin list` shows the configured plugins" });
    return record;
  }
}

function toInfo(r: PluginRecord): PluginInfo {
  return {
    name: r.name, kind: r.kind, state: r.state, version: r.metadata?.version ?? null, description: r.metadata?.description ?? null,
    health: r.health ?? null, pid: r.pid ?? null, address: r.address ?? null, routes: r.routes, handlerNames: r.handlerNames,
    error: r.error ?? null, hint: r.hint ?? null, startedAt: r.startedAt ?? null,
  };
}
