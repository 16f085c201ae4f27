/**
 * PluginManager: turns the `[plugins.*]` tables of the config into `PluginInstance`s (one
 * each, indexed by the registry) and supervises them as a set: boot order and dependencies
 * (a plugin starts once what it depends on runs; cycles and version ranges are refused),
 * stop refusal while dependents run, shutdown in waves (dependents first), reload's add /
 * remove / replace, and the health polling loop. Everything about one plugin — its process,
 * state, crashes and restarts — is its instance's (instance.ts). Plugins start concurrently;
 * one plugin's failure never stops the others.
 */
import type { Logger } from "pino";
import { QntxError } from "@qntx/protocol";
import type { HostConfig, PluginEntry, PluginGrants } from "../config/types.js";
import { HOST_VERSION } from "../version.js";
import { checkDependencyVersion, findCycles } from "./dependencies.js";
import { PluginInstance } from "./instance.js";
import type { HostServices, InstanceContext } from "./instance-context.js";
import { Launcher, type Launch } from "./launch.js";
import type { PidFile } from "./pid-file.js";
import { layeredConfig, pluginConfigFile } from "./plugin-config.js";
import { PortAllocator } from "./ports.js";
import type { Registry } from "./registry.js";
import { SpawnTransports } from "./spawn-transport.js";
import { isActive } from "./state.js";

export type { HostServices } from "./instance-context.js";

/** Options of {@link PluginManager}, for tests and embedders. */
export interface ManagerOptions {
  /** The version plugins' `qntx_version` ranges are checked against (default: this host's). */
  readonly hostVersion?: string;
  /** Launches a plugin's run (default: spawn, dial or instantiate it as its entry says). */
  readonly launch?: Launch;
}

/** See the file comment. */
export class PluginManager {
  /** Set once the host shuts down: crashes are no longer restarted. */
  private closing = false;
  /** Where spawned processes are recorded for the orphan sweep of a later host. */
  private pidFile: PidFile | undefined;
  /** Starts under way (dependencies included), so concurrent starts of one plugin share one. */
  private readonly starting = new Map<string, Promise<void>>();
  /** Plugins in a dependency cycle → the cycle's path; they never start. */
  private cycles: Map<string, string>;
  private readonly context: InstanceContext;

  constructor(config: HostConfig, private readonly registry: Registry, services: HostServices, private readonly logger: Logger, options: ManagerOptions = {}) {
    const ports = new PortAllocator(config.host.pluginBasePort);
    const transports = new SpawnTransports(config.host.dataDir, config.host.autoMtls);
    this.context = {
      config, services, logger, events: registry, hostVersion: options.hostVersion ?? HOST_VERSION,
      launch: options.launch ?? new Launcher({ config, ports, transports, logs: services.logs, callObserver: services.callObserver }).launch,
      slots: { ports, transports, pidFile: () => this.pidFile, shutdownTimeoutMs: config.host.shutdownTimeoutMs },
      closing: () => this.closing,
    };
    for (const entry of config.plugins) this.registry.add(new PluginInstance(entry, this.context));
    this.cycles = findCycles(config.plugins);
  }

  /** What plugin `name` may do with the host's services (undefined: everything, or not configured). */
  grantsOf(name: string): PluginGrants | undefined {
    return this.registry.instance(name)?.entry.grants;
  }

  /** Every configured entry, in config order. */
  configured(): PluginEntry[] {
    return this.registry.all().map((i) => i.entry);
  }

  /**
   * Takes plugins added to the config while the host runs: all are declared first (they may
   * depend on each other), then those that are enabled and start at boot are started.
   * Resolves with the start failures (each plugin is `failed` with its reason).
   */
  async add(entries: readonly PluginEntry[]): Promise<Array<{ name: string; error: unknown }>> {
    for (const entry of entries) {
      if (this.registry.has(entry.name)) throw new QntxError("INVALID_ARGUMENT", `plugin ${entry.name} is already configured`);
    }
    for (const entry of entries) this.registry.add(new PluginInstance(entry, this.context));
    this.refreshCycles();
    return this.startEach(entries.filter(startsAtBoot).map((e) => e.name));
  }

  /** Stops a plugin removed from the config (forced: its dependents are told in the log) and forgets it. */
  async remove(name: string): Promise<void> {
    const users = this.dependents(name);
    if (users.length) this.logger.warn({ plugin: name, dependents: users }, "plugin removed from the config while others depend on it");
    await this.stop(name, { force: true });
    this.registry.remove(name);
    this.refreshCycles();
  }

  /**
   * Takes changed entries of configured plugins: each is stopped and its entry replaced; those
   * that ran (or should have) start again with it, a plugin stopped by a person stays stopped,
   * a disabled one stays down. Resolves with the start failures.
   */
  async replace(entries: readonly PluginEntry[]): Promise<Array<{ name: string; error: unknown }>> {
    const restart: string[] = [];
    await Promise.all(entries.map(async (entry) => {
      const instance = this.instance(entry.name);
      const live = instance.wanted || isActive(instance.state);
      await this.stop(entry.name, { force: true });
      instance.replaceEntry(entry);
      if (entry.enabled && (live || startsAtBoot(entry))) restart.push(entry.name);
    }));
    this.refreshCycles();
    return this.startEach(restart);
  }

  /** Records every spawned plugin process in `pidFile` from now on. */
  recordProcessesIn(pidFile: PidFile): void {
    this.pidFile = pidFile;
  }

  /**
   * Starts every enabled entry that should run at boot. Independent plugins start concurrently;
   * a plugin starts once the plugins it depends on run. Never throws.
   */
  async startAll(): Promise<void> {
    await Promise.allSettled(this.configured().filter(startsAtBoot).map((e) => this.start(e.name)));
  }

  /**
   * Starts one plugin (no-op when it is running), after starting the plugins it depends on.
   * Rejects with the reason it failed to start. A person starting a plugin forgives its past
   * crashes (the crash budget starts afresh).
   */
  async start(name: string): Promise<void> {
    const instance = this.instance(name);
    if (!instance.entry.enabled) {
      throw new QntxError("INVALID_ARGUMENT", `plugin ${name} is disabled in the config`, { hint: `set enabled = true in [plugins.${name}]` });
    }
    instance.want();
    const starting = this.starting.get(name);
    if (starting) return starting;
    const run = (async () => {
      await this.startDependencies(instance);
      await instance.start();
    })();
    this.starting.set(name, run);
    try {
      await run;
    } finally {
      this.starting.delete(name);
    }
  }

  /**
   * Stops one plugin: Shutdown RPC, SIGTERM to its process group, SIGKILL after the budget.
   * Idempotent. Refused while running plugins depend on it, unless `force`.
   */
  async stop(name: string, options: { force?: boolean } = {}): Promise<void> {
    const instance = this.instance(name);
    const users = this.dependents(name).filter((d) => isActive(this.registry.instance(d)?.state ?? "stopped"));
    if (users.length > 0 && !options.force) {
      throw new QntxError("IN_USE", `plugin ${name} is needed by ${users.join(", ")}`, {
        hint: `stop ${users.join(", ")} first, or force it: qntx plugin stop ${name} --force`,
      });
    }
    await instance.stop();
  }

  /** Pauses a running plugin: its HTTP answers 503 and its jobs wait (they do not fail) until resumed. */
  async pause(name: string): Promise<void> {
    await this.instance(name).pause();
  }

  /** Resumes a paused plugin: it serves again and its waiting jobs run. */
  async resume(name: string): Promise<void> {
    await this.instance(name).resume();
  }

  /** Stops then starts one plugin; it is `restarting` in between. */
  async restart(name: string): Promise<void> {
    await this.instance(name).restart();
  }

  /** Plugins whose `depends_on` names `name`. */
  dependents(name: string): string[] {
    return this.configured().filter((e) => e.dependsOn.some((d) => d.name === name)).map((e) => e.name);
  }

  /**
   * Stops every plugin at host shutdown: dependents before what they depend on (wave by wave,
   * each wave concurrently), forcing, so a plugin others depend on is never left running.
   */
  async stopAll(): Promise<void> {
    this.closing = true;
    const entries = new Map(this.configured().map((e) => [e.name, e]));
    const depth = new Map<string, number>();
    const depthOf = (name: string, seen: Set<string> = new Set()): number => {
      if (depth.has(name)) return depth.get(name)!;
      if (seen.has(name)) return 0; // a cycle: its members never started
      seen.add(name);
      const deps = entries.get(name)?.dependsOn.filter((d) => entries.has(d.name)) ?? [];
      const d = deps.length ? 1 + Math.max(...deps.map((dep) => depthOf(dep.name, seen))) : 0;
      depth.set(name, d);
      return d;
    };
    const names = [...entries.keys()];
    for (const level of [...new Set(names.map((n) => depthOf(n)))].sort((a, b) => b - a)) {
      await Promise.allSettled(names.filter((n) => depth.get(n) === level).map((n) => this.stop(n, { force: true })));
    }
  }

  /**
   * One round of the health loop: a Health call to every running plugin, concurrently. Each
   * instance counts its own misses and restarts itself after `health_failures` in a row.
   */
  async checkHealth(timeoutMs: number): Promise<void> {
    await Promise.all(this.registry.all().map((instance) => instance.checkHealth(timeoutMs)));
  }

  /** The configured entry of a plugin, or a PLUGIN_NOT_FOUND error. */
  entry(name: string): PluginEntry {
    return this.instance(name).entry;
  }

  /** The config the plugin would get now (table + own file + env), for GET /api/plugins/<name>/config. */
  configOf(name: string): { config: Record<string, string>; file: string } {
    const { dataDir } = this.context.config.host;
    return { config: layeredConfig(this.entry(name), dataDir), file: pluginConfigFile(dataDir, name) };
  }

  /**
   * Changes a plugin's config (PUT /api/plugins/<name>/config): validates it against the
   * running plugin's schema, stores it in the plugin's own file (so it survives restarts),
   * and re-initializes a running plugin with it. Nothing is written when it is invalid.
   */
  async reconfigure(name: string, config: Record<string, string>): Promise<void> {
    await this.instance(name).reconfigure(config);
  }

  /** Starts `names` concurrently; resolves with those that failed. */
  private async startEach(names: readonly string[]): Promise<Array<{ name: string; error: unknown }>> {
    const results = await Promise.allSettled(names.map((name) => this.start(name)));
    return results.flatMap((r, i) => (r.status === "rejected" ? [{ name: names[i]!, error: r.reason as unknown }] : []));
  }

  private refreshCycles(): void {
    this.cycles = findCycles(this.configured());
  }

  /**
   * Starts what `instance` depends on and checks their versions. A failure marks it failed
   * with the reason (which dependency, which versions, or the cycle's path) and rethrows.
   */
  private async startDependencies(instance: PluginInstance): Promise<void> {
    const { name, entry } = instance;
    try {
      const cycle = this.cycles.get(name);
      if (cycle) {
        throw new QntxError("DEPENDENCY_FAILED", `dependency cycle: ${cycle}`, { hint: "remove one of these depends_on entries" });
      }
      for (const dep of entry.dependsOn) {
        const target = this.registry.instance(dep.name);
        if (!target) {
          throw new QntxError("DEPENDENCY_FAILED", `plugin ${name} depends on ${dep.name}, which is not configured`, { hint: `add a [plugins.${dep.name}] table, or remove it from depends_on` });
        }
        if (!target.entry.enabled) {
          throw new QntxError("DEPENDENCY_FAILED", `plugin ${name} depends on ${dep.name}, which is disabled`, { hint: `enable [plugins.${dep.name}]` });
        }
        try {
          await this.start(dep.name);
        } catch (error) {
          throw new QntxError("DEPENDENCY_FAILED", `plugin ${name} depends on ${dep.name}, which failed to start: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
        checkDependencyVersion(name, dep.name, dep.range, target.info().version);
      }
    } catch (error) {
      instance.dependencyFailed(error);
      this.logger.error({ plugin: name }, error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  /** The instance of a configured plugin, or a PLUGIN_NOT_FOUND error naming the configured ones. */
  private instance(name: string): PluginInstance {
    const instance = this.registry.instance(name);
    if (!instance) {
      const known = this.configured().map((e) => e.name).join(", ") || "none";
      throw new QntxError("PLUGIN_NOT_FOUND", `no plugin named "${name}" is configured (configured: ${known})`, {
        hint: "add a [plugins.<name>] table to am.plugins.toml, or check the spelling",
      });
    }
    return instance;
  }
}

/** Whether the host starts the plugin by itself (at boot, or when the config adds it). */
function startsAtBoot(entry: PluginEntry): boolean {
  return entry.enabled && (entry.source.kind !== "binary" || entry.source.autoStart);
}
