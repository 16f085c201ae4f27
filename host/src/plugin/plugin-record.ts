/**
 * What the host knows of one plugin's current run: its live connection (a `DomainPlugin`,
 * built-in or a gRPC proxy), what it answered to Metadata and Initialize, its last health, pid,
 * address and last error. It also makes the calls that are the same for every kind of plugin:
 * the name and `qntx_version` checks before Initialize, Health, and Shutdown. It never changes
 * the plugin's state: its owner, `PluginInstance`, does that.
 */
import { QntxError, type InitializeRequest, type InitializeResponse, type MetadataResponse, type RouteInfo } from "@qntx/protocol";
import type { DomainPlugin } from "./domain-plugin.js";
import { providerRoles, type HealthSnapshot, type PluginInfo, type PluginKind } from "./plugin-info.js";
import type { PluginState } from "./state.js";
import { checkQntxVersion } from "./version.js";

/** One plugin's connection and what it announced; see the file comment. */
export class PluginRecord {
  plugin: DomainPlugin | undefined;
  metadata: MetadataResponse | undefined;
  routes: RouteInfo[] = [];
  handlerNames: string[] = [];
  /** The whole InitializeResponse of the current run (schedules, watchers, providers). */
  announced: InitializeResponse | undefined;
  health: HealthSnapshot | undefined;
  /** Consecutive Health calls of the current run that got no answer (0 once one is answered). */
  unanswered = 0;
  pid: number | undefined;
  address: string | undefined;
  error: string | undefined;
  hint: string | undefined;
  startedAt: number | undefined;

  constructor(private readonly name: string, public kind: PluginKind) {}

  /** Attaches the live plugin of a new run; what the last run announced is forgotten. */
  attach(plugin: DomainPlugin, info: { pid?: number | undefined; address?: string | undefined }): void {
    this.plugin?.close?.();
    Object.assign(this, {
      plugin, pid: info.pid, address: info.address, metadata: undefined, routes: [], handlerNames: [], announced: undefined,
      health: undefined, unanswered: 0, error: undefined, hint: undefined, startedAt: undefined,
    });
  }

  /**
   * Records why the plugin failed and drops its connection.
   * @returns the reason as it is shown (the error's message)
   */
  fail(error: unknown): string {
    this.error = error instanceof Error ? error.message : String(error);
    // A QntxError carries one; so does EXITED_BEFORE_PORT when the plugin printed a `hint:` line.
    const hint = (error as { hint?: unknown } | null)?.hint;
    this.hint = typeof hint === "string" && hint ? hint : undefined;
    this.drop();
    return this.error;
  }

  /** Closes the connection. Its process is gone (or going): neither its pid nor its last health says anything now. */
  drop(): void {
    this.plugin?.close?.();
    this.plugin = undefined;
    this.pid = undefined;
    this.health = undefined;
    this.unanswered = 0;
  }

  /**
   * Checks the plugin's name and `qntx_version` (Metadata), then calls Initialize and keeps
   * what it announced. Rejects with the reason when any step fails.
   */
  async initialize(request: InitializeRequest, timeoutMs: number, hostVersion: string): Promise<void> {
    const plugin = this.plugin;
    if (!plugin) throw new QntxError("PLUGIN_UNAVAILABLE", `plugin ${this.name} is not connected`);
    const metadata = await plugin.metadata({ deadline: Date.now() + timeoutMs });
    if (metadata.name !== this.name) {
      throw new QntxError("WRONG_NAME", `plugin configured as "${this.name}" reports its name as "${metadata.name}"`, {
        hint: `rename the [plugins.${this.name}] table to [plugins.${metadata.name}], or point it at the right binary/address`,
      });
    }
    checkQntxVersion(this.name, metadata.qntxVersion, hostVersion);
    const response = await plugin.initialize(request, { deadline: Date.now() + timeoutMs });
    // The start was given up meanwhile (the process exited): this answer is about a run that is over.
    if (this.plugin !== plugin) throw new QntxError("PLUGIN_UNAVAILABLE", `plugin ${this.name} went away while it initialized`);
    Object.assign(this, {
      metadata, routes: response.httpRoutes, handlerNames: response.handlerNames, announced: response, startedAt: Date.now(), error: undefined, hint: undefined,
    });
  }

  /**
   * Calls Health; a throw or timeout counts as unhealthy and unanswered.
   * @returns the snapshot, or undefined when the plugin was stopped or restarted meanwhile
   */
  async checkHealth(timeoutMs: number): Promise<HealthSnapshot | undefined> {
    const plugin = this.plugin;
    if (!plugin) return undefined;
    let health: HealthSnapshot;
    try {
      const answer = await plugin.health({ deadline: Date.now() + timeoutMs });
      health = { answered: true, healthy: answer.healthy, message: answer.message, details: answer.details, checkedAt: Date.now() };
    } catch (error) {
      health = { answered: false, healthy: false, message: error instanceof Error ? error.message : String(error), details: {}, checkedAt: Date.now() };
    }
    // The plugin was stopped or restarted meanwhile: this answer is about a run that is over.
    if (this.plugin !== plugin) return undefined;
    this.health = health;
    this.unanswered = health.answered ? 0 : this.unanswered + 1;
    return health;
  }

  /**
   * Sends Shutdown (bounded by `timeoutMs`, errors ignored: the plugin may already be gone) and
   * closes the connection. With `detach`, no Shutdown is sent: the connection is only closed
   * (a dialed plugin's process is not ours to end, and a hung one would not answer).
   */
  async shutdown(timeoutMs: number, detach: boolean): Promise<void> {
    const plugin = this.plugin;
    if (!plugin) return;
    this.plugin = undefined;
    try {
      if (!detach) await plugin.shutdown({ deadline: Date.now() + timeoutMs });
    } catch {
      // A plugin that is gone or hangs in Shutdown is stopped by its process manager.
    } finally {
      plugin.close?.();
      this.pid = undefined;
      this.health = undefined;
      this.unanswered = 0;
    }
  }

  /** The control API's snapshot. */
  info(state: PluginState): Omit<PluginInfo, "restarts"> {
    return {
      name: this.name, kind: this.kind, state, version: this.metadata?.version ?? null, description: this.metadata?.description ?? null,
      health: this.health ?? null, pid: this.pid ?? null, address: this.address ?? null, routes: this.routes, handlerNames: this.handlerNames,
      roles: providerRoles(this.announced), error: this.error ?? null, hint: this.hint ?? null, startedAt: this.startedAt ?? null,
    };
  }
}
