/**
 * PluginManager: turns the `[plugins.*]` tables of the config into live plugins. For each
 * entry it spawns the binary (own process group, `--port` from a probed free port, port line,
 * Metadata readiness), dials the address, or instantiates the built-in, then has the registry
 * check and initialize it. Plugins start concurrently; one plugin's failure never stops the
 * others. Start, stop and restart of one plugin are serialized so they cannot interleave.
 */
import type { Logger } from "pino";
import { QntxError, type InitializeRequest } from "@qntx/protocol";
import type { HostConfig, PluginEntry, PluginGrants } from "../config/types.js";
import { createBuiltin } from "../builtin/index.js";
import { PluginCallError, type DomainPlugin } from "./domain-plugin.js";
import { ExternalDomainProxy } from "./external-proxy.js";
import { inProcess } from "./in-process.js";
import { BootSlots } from "./boot-slots.js";
import { PortAllocator } from "./ports.js";
import { PluginProcess, describeExit, type PluginOutputSink } from "./process.js";
import type { Registry } from "./registry.js";
import { resolvePluginBinary } from "./resolve-binary.js";
import { waitForMetadata } from "./wait-ready.js";
import { checkPinnedFile } from "./binary-pin.js";
import { dialedChannel } from "./plugin-channel.js";
import { SpawnTransports } from "./spawn-transport.js";
import { CrashTracker } from "./crash-policy.js";
import { checkDependencyVersion, findCycles } from "./dependencies.js";
import { configSourceOf, layeredConfig, pluginConfigFile, resolveConfigValues, validateConfig, writePluginConfigFile } from "./plugin-config.js";
import { status as grpcStatus } from "@grpc/grpc-js";
import type { PidFile } from "./pid-file.js";
import { isStopped } from "./os-process.js";
import type { PluginTokens } from "../services/tokens.js";

/** The services the host offers plugins, filled into every InitializeRequest. */
export interface HostServices {
  /** Endpoints (`host:port`, "" = not offered) for InitializeRequest. */
  readonly endpoints: Omit<InitializeRequest, "authToken" | "config">;
  /**
   * Endpoints for dialed plugins when they differ (`[host] grpc_tls`: the TLS server, while
   * spawned plugins keep a loopback plaintext one). Default: `endpoints`.
   */
  readonly dialedEndpoints?: Omit<InitializeRequest, "authToken" | "config">;
  /** Issues each plugin its own token for the host's services at every start. */
  readonly tokens: PluginTokens;
  /** Where spawned plugins' output goes (ring, log file); the same log across restarts. */
  readonly logs?: { forPlugin(name: string): PluginOutputSink };
}

interface Runtime {
  process: PluginProcess | undefined;
  port: number | undefined;
  /** The unix socket the plugin was asked to listen on (`transport = "unix"`), removed when it stops. */
  socket: string | undefined;
  /** Recent crashes, for backoff and the crash budget. */
  crashes: CrashTracker;
  /** Pending automatic restart after a crash. */
  restartTimer: NodeJS.Timeout | undefined;
  /** Consecutive Health calls that got no answer. */
  healthMisses: number;
  /**
   * Whether a person (or the config at boot) wants it running. A stop clears it, so a crash
   * path already under way (a restart timer, a failed restart, a health kill) never brings
   * back a plugin that was stopped.
   */
  wanted: boolean;
  /** Set while the host itself stops the plugin, so its exit is not reported as a crash. */
  stopping: boolean;
  /** Tail of the per-plugin operation queue. */
  queue: Promise<unknown>;
}

export class PluginManager {
  private readonly entries = new Map<string, PluginEntry>();
  /** Set once the host shuts down: crashes are no longer restarted. */
  private closing = false;
  /** Where spawned processes are recorded for the orphan sweep of a later host. */
  private pidFile: PidFile | undefined;
  /** Starts under way (dependencies included), so concurrent starts of one plugin share one. */
  private readonly starting = new Map<string, Promise<void>>();
  private readonly runtimes = new Map<string, Runtime>();
  private readonly ports: PortAllocator;
  /** Spawned plugins booting at once (port allocation → port line). */
  private readonly boots = new BootSlots();
  /** Plugins in a dependency cycle → the cycle's path; they never start. */
  private cycles: Map<string, string>;
  /** Auto-mTLS and unix sockets of spawned plugins. */
  private readonly transports: SpawnTransports;

  constructor(
    private readonly config: HostConfig,
    private readonly registry: Registry,
    private readonly services: HostServices,
    private readonly logger: Logger,
  ) {
    this.ports = new PortAllocator(config.host.pluginBasePort);
    this.transports = new SpawnTransports(config.host.dataDir, config.host.autoMtls);
    for (const entry of config.plugins) this.declareEntry(entry);
    this.cycles = findCycles(config.plugins);
  }

  /** What plugin `name` may do with the host's services (undefined: everything, or not configured). */
  grantsOf(name: string): PluginGrants | undefined {
    return this.entries.get(name)?.grants;
  }

  /** Every configured entry, in config order. */
  configured(): PluginEntry[] {
    return [...this.entries.values()];
  }

  /**
   * Takes plugins added to the config while the host runs: all are declared first (they may
   * depend on each other), then those that are enabled and start at boot are started.
   * Resolves with the start failures (each plugin is `failed` with its reason).
   */
  async add(entries: readonly PluginEntry[]): Promise<Array<{ name: string; error: unknown }>> {
    for (const entry of entries) {
      if (this.entries.has(entry.name)) throw new QntxError("INVALID_ARGUMENT", `plugin ${entry.name} is already configured`);
    }
    for (const entry of entries) this.declareEntry(entry);
    this.refreshCycles();
    return this.startEach(entries.filter(startsAtBoot).map((e) => e.name));
  }

  /** Stops a plugin removed from the config (forced: its dependents are told in the log) and forgets it. */
  async remove(name: string): Promise<void> {
    const users = this.dependents(name);
    if (users.length) this.logger.warn({ plugin: name, dependents: users }, "plugin removed from the config while others depend on it");
    await this.stop(name, { force: true });
    this.entries.delete(name);
    this.runtimes.delete(name);
    this.registry.forget(name);
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
      const runtime = this.runtimes.get(this.entry(entry.name).name)!;
      const state = this.registry.get(entry.name)?.state;
      const live = runtime.wanted || state === "running" || state === "paused" || state === "loading" || state === "restarting";
      await this.stop(entry.name, { force: true });
      this.entries.set(entry.name, entry);
      this.registry.declareKind(entry.name, kindOf(entry));
      if (entry.enabled && (live || startsAtBoot(entry))) restart.push(entry.name);
    }));
    this.refreshCycles();
    return this.startEach(restart);
  }

  /** Starts `names` concurrently; resolves with those that failed. */
  private async startEach(names: readonly string[]): Promise<Array<{ name: string; error: unknown }>> {
    const results = await Promise.allSettled(names.map((name) => this.start(name)));
    return results.flatMap((r, i) => (r.status === "rejected" ? [{ name: names[i]!, error: r.reason as unknown }] : []));
  }

  private declareEntry(entry: PluginEntry): void {
    const { crashBudget, crashWindowMs, restartBackoffBaseMs, restartBackoffMaxMs } = this.config.host;
    const crashSettings = { budget: crashBudget, windowMs: crashWindowMs, baseMs: restartBackoffBaseMs, maxMs: restartBackoffMaxMs };
    this.entries.set(entry.name, entry);
    this.runtimes.set(entry.name, {
      process: undefined, port: undefined, socket: undefined, crashes: new CrashTracker(crashSettings), restartTimer: undefined, healthMisses: 0, wanted: false,
      stopping: false, queue: Promise.resolve(),
    });
    this.registry.declare(entry.name, kindOf(entry));
  }

  private refreshCycles(): void {
    this.cycles = findCycles([...this.entries.values()]);
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
    const boot = [...this.entries.values()].filter(startsAtBoot);
    await Promise.allSettled(boot.map((e) => this.start(e.name)));
  }

  /**
   * Starts one plugin (no-op when it is running), after starting the plugins it depends on.
   * Rejects with the reason it failed to start. A person starting a plugin forgives its past
   * crashes (the crash budget starts afresh).
   */
  async start(name: string): Promise<void> {
    const entry = this.entry(name);
    if (!entry.enabled) {
      throw new QntxError("INVALID_ARGUMENT", `plugin ${name} is disabled in the config`, { hint: `set enabled = true in [plugins.${name}]` });
    }
    this.forgiveCrashes(name);
    this.runtimes.get(name)!.wanted = true;
    const starting = this.starting.get(name);
    if (starting) return starting;
    const run = (async () => {
      await this.startDependencies(name);
      await this.serialize(name, () => this.doStart(name));
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
  stop(name: string, options: { force?: boolean } = {}): Promise<void> {
    this.entry(name);
    const users = this.dependents(name).filter((d) => ["running", "paused", "loading", "restarting"].includes(this.registry.get(d)?.state ?? ""));
    if (users.length > 0 && !options.force) {
      return Promise.reject(new QntxError("IN_USE", `plugin ${name} is needed by ${users.join(", ")}`, {
        hint: `stop ${users.join(", ")} first, or force it: qntx plugin stop ${name} --force`,
      }));
    }
    this.runtimes.get(name)!.wanted = false;
    this.cancelRestart(name);
    return this.serialize(name, () => this.doStop(name));
  }

  /** Pauses a running plugin: its HTTP answers 503 and its jobs wait (they do not fail) until resumed. */
  pause(name: string): Promise<void> {
    return this.serialize(name, async () => {
      this.requireState(name, "running", "paused");
      this.registry.setState(name, "paused");
    });
  }

  /** Resumes a paused plugin: it serves again and its waiting jobs run. */
  resume(name: string): Promise<void> {
    return this.serialize(name, async () => {
      this.requireState(name, "paused", "resumed");
      this.registry.setState(name, "running");
    });
  }

  /** Plugins whose `depends_on` names `name`. */
  dependents(name: string): string[] {
    return [...this.entries.values()].filter((e) => e.dependsOn.some((d) => d.name === name)).map((e) => e.name);
  }

  /** Stops then starts one plugin; it is `restarting` in between. */
  restart(name: string): Promise<void> {
    this.forgiveCrashes(name);
    this.runtimes.get(name)!.wanted = true;
    return this.serialize(name, async () => {
      this.registry.setState(name, "restarting");
      await this.doStop(name, "restarting");
      await this.doStart(name);
    });
  }

  /**
   * Stops every plugin at host shutdown: dependents before what they depend on (wave by wave,
   * each wave concurrently), forcing, so a plugin others depend on is never left running.
   */
  async stopAll(): Promise<void> {
    this.closing = true;
    const depth = new Map<string, number>();
    const depthOf = (name: string, seen: Set<string> = new Set()): number => {
      if (depth.has(name)) return depth.get(name)!;
      if (seen.has(name)) return 0; // a cycle: its members never started
      seen.add(name);
      const deps = this.entries.get(name)?.dependsOn.filter((d) => this.entries.has(d.name)) ?? [];
      const d = deps.length ? 1 + Math.max(...deps.map((dep) => depthOf(dep.name, seen))) : 0;
      depth.set(name, d);
      return d;
    };
    const names = [...this.entries.keys()];
    for (const level of [...new Set(names.map((n) => depthOf(n)))].sort((a, b) => b - a)) {
      await Promise.allSettled(names.filter((n) => depth.get(n) === level).map((n) => this.stop(n, { force: true })));
    }
  }

  /**
   * Polls every running plugin's Health. A plugin that misses `healthFailures` calls in a row
   * (no answer within the deadline: hung, or its connection is gone) counts as crashed: it is
   * stopped and restarted like one that exited.
   */
  async checkHealth(timeoutMs: number): Promise<void> {
    const snapshots = await this.registry.healthCheckAll(timeoutMs);
    for (const [name, health] of snapshots) {
      const runtime = this.runtimes.get(name);
      if (!runtime) continue;
      runtime.healthMisses = health.answered ? 0 : runtime.healthMisses + 1;
      if (runtime.healthMisses >= this.config.host.healthFailures) {
        runtime.healthMisses = 0;
        const reason = `stopped answering Health (${this.config.host.healthFailures} checks in a row: ${health.message})`;
        this.logger.error({ plugin: name }, `plugin ${reason}`);
        void this.serialize(name, async () => {
          // A stop or restart may have come first: only a plugin still running is killed.
          if (!runtime.wanted || this.registry.get(name)?.state !== "running") return;
          await this.killProcess(runtime, { hung: true });
          this.crashed(name, reason);
        });
      }
    }
  }

  /** The configured entry of a plugin, or a PLUGIN_NOT_FOUND error. */
  entry(name: string): PluginEntry {
    const entry = this.entries.get(name);
    if (!entry) {
      const known = [...this.entries.keys()].join(", ") || "none";
      throw new QntxError("PLUGIN_NOT_FOUND", `no plugin named "${name}" is configured (configured: ${known})`, {
        hint: "add a [plugins.<name>] table to am.plugins.toml, or check the spelling",
      });
    }
    return entry;
  }

  /**
   * Starts what `name` depends on and checks their versions. A failure marks `name` failed
   * with the reason (which dependency, which versions, or the cycle's path) and rethrows.
   */
  private async startDependencies(name: string): Promise<void> {
    const entry = this.entry(name);
    try {
      const cycle = this.cycles.get(name);
      if (cycle) {
        throw new QntxError("DEPENDENCY_FAILED", `dependency cycle: ${cycle}`, { hint: "remove one of these depends_on entries" });
      }
      for (const dep of entry.dependsOn) {
        if (!this.entries.has(dep.name)) {
          throw new QntxError("DEPENDENCY_FAILED", `plugin ${name} depends on ${dep.name}, which is not configured`, { hint: `add a [plugins.${dep.name}] table, or remove it from depends_on` });
        }
        if (!this.entries.get(dep.name)!.enabled) {
          throw new QntxError("DEPENDENCY_FAILED", `plugin ${name} depends on ${dep.name}, which is disabled`, { hint: `enable [plugins.${dep.name}]` });
        }
        try {
          await this.start(dep.name);
        } catch (error) {
          throw new QntxError("DEPENDENCY_FAILED", `plugin ${name} depends on ${dep.name}, which failed to start: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
        checkDependencyVersion(name, dep.name, dep.range, this.registry.get(dep.name)?.version ?? null);
      }
    } catch (error) {
      if (this.registry.get(name)?.state !== "running") this.registry.fail(name, error);
      this.logger.error({ plugin: name }, error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  /** The config a plugin should get: its table, the per-plugin files over it, references resolved (plugin-config.ts). */
  private wantedConfig(entry: PluginEntry): Record<string, string> {
    return resolveConfigValues(layeredConfig(entry, this.config.host.dataDir), process.env, entry.name, configSourceOf(this.config, entry));
  }

  /**
   * Validates `config` against the plugin's ConfigSchema (required, type, min/max, pattern,
   * array element type) and fills its defaults. A plugin without a schema (UNIMPLEMENTED, or
   * no fields) gets the config as it is.
   * @throws QntxError CONFIG_INVALID with one line per bad field
   */
  private async checkedConfig(name: string, plugin: DomainPlugin, config: Record<string, string>): Promise<Record<string, string>> {
    if (!plugin.configSchema) return config;
    let schema;
    try {
      schema = await plugin.configSchema({ deadline: Date.now() + this.config.host.initializeTimeoutMs });
    } catch (error) {
      if (error instanceof PluginCallError && error.code === grpcStatus.UNIMPLEMENTED) return config;
      throw error;
    }
    const checked = validateConfig(config, schema);
    if (checked.errors.length) {
      throw new QntxError("CONFIG_INVALID", `plugin ${name} config is invalid:\n  ${checked.errors.join("\n  ")}`, {
        hint: `fix [plugins.${name}] config in am.plugins.toml or ${pluginConfigFile(this.config.host.dataDir, name)}`,
      });
    }
    return checked.config;
  }

  /** The config the plugin would get now (table + own file + env), for GET /api/plugins/<name>/config. */
  configOf(name: string): { config: Record<string, string>; file: string } {
    const entry = this.entry(name);
    return { config: layeredConfig(entry, this.config.host.dataDir), file: pluginConfigFile(this.config.host.dataDir, name) };
  }

  /**
   * Changes a plugin's config (PUT /api/plugins/<name>/config): validates it against the
   * running plugin's schema, stores it in the plugin's own file (so it survives restarts),
   * and re-initializes a running plugin with it. Nothing is written when it is invalid.
   */
  reconfigure(name: string, config: Record<string, string>): Promise<void> {
    return this.serialize(name, async () => {
      const entry = this.entry(name);
      const plugin = this.registry.runningPlugin(name);
      const where = `new config of ${name}`;
      const merged = resolveConfigValues(layeredConfig(entry, this.config.host.dataDir, config), process.env, name, where);
      const checked = plugin ? await this.checkedConfig(name, plugin, merged) : merged;
      if (plugin) {
        const request: InitializeRequest = { ...this.endpointsFor(entry), authToken: this.services.tokens.issue(name), config: checked };
        try {
          await this.registry.initialize(name, request, this.config.host.initializeTimeoutMs);
        } catch (error) {
          // The plugin refused it: it is failed now, so its process goes too; the file is untouched.
          this.services.tokens.revoke(name);
          await this.killProcess(this.runtimes.get(name)!);
          throw error;
        }
      }
      // Written only once the plugin took it, so a refused config never outlives the request.
      writePluginConfigFile(this.config.host.dataDir, name, config);
    });
  }

  private requireState(name: string, wanted: "running" | "paused", verb: string): void {
    const state = this.registry.get(this.entry(name).name)?.state;
    if (state !== wanted) {
      throw new QntxError("INVALID_ARGUMENT", `plugin ${name} is ${state}: only a ${wanted} plugin can be ${verb}`, {
        hint: wanted === "running" ? `start it first: qntx plugin start ${name}` : `resume applies to paused plugins; qntx plugin list shows states`,
      });
    }
  }

  private async doStart(name: string): Promise<void> {
    const entry = this.entry(name);
    // A paused plugin is live: starting it again would spawn a second process.
    const state = this.registry.get(name)?.state;
    if (state === "running" || state === "paused") return;
    const runtime = this.runtimes.get(name)!;
    const log = this.logger.child({ plugin: name });
    // Whatever is left of a previous run (a failed re-Initialize keeps its process) goes first.
    await this.killProcess(runtime);
    runtime.stopping = false;
    runtime.healthMisses = 0;
    this.registry.setState(name, "loading");
    let unregistered: DomainPlugin | undefined;
    try {
      // Config problems that need no plugin (bad per-plugin file, unset ${VAR}) fail before spawning.
      const wanted = this.wantedConfig(entry);
      const { plugin, pid, address, aborted } = await this.launch(entry, runtime, log);
      unregistered = plugin;
      const config = await Promise.race([this.checkedConfig(name, plugin, wanted), aborted]);
      this.registry.register(name, plugin, { kind: kindOf(entry), pid, address });
      unregistered = undefined;
      const authToken = this.services.tokens.issue(name);
      const request: InitializeRequest = { ...this.endpointsFor(entry), authToken, config };
      await Promise.race([this.registry.initialize(name, request, this.config.host.initializeTimeoutMs), aborted]);
      log.info({ pid, address, routes: this.registry.get(name)?.routes.length }, "plugin running");
    } catch (error) {
      // A plugin launched but never registered still holds its gRPC channel.
      unregistered?.close?.();
      this.services.tokens.revoke(name);
      this.registry.fail(name, error);
      await this.killProcess(runtime);
      log.error({ code: error instanceof QntxError ? error.code : undefined }, error instanceof QntxError ? error.describe() : String(error));
      throw error;
    }
  }

  /** Spawns, dials or instantiates the plugin and waits until it answers with its name. */
  private async launch(entry: PluginEntry, runtime: Runtime, log: Logger): Promise<{ plugin: DomainPlugin; pid?: number; address?: string; aborted: Promise<never> }> {
    const never = new Promise<never>(() => undefined);
    const source = entry.source;
    if (source.kind === "builtin") {
      const plugin = createBuiltin(source.builtin);
      if (!plugin) {
        throw new QntxError("PLUGIN_NOT_FOUND", `no built-in plugin named "${source.builtin}"`, { hint: "see host/src/builtin for the built-in catalogue" });
      }
      return { plugin: inProcess(plugin), aborted: never };
    }
    if (source.kind === "address") {
      const channel = dialedChannel(entry.name, source);
      const proxy = new ExternalDomainProxy(channel.target, channel);
      try {
        await waitForMetadata(proxy, entry.name, source.address, this.config.host.readyTimeoutMs, undefined, channel.classify);
      } catch (error) {
        proxy.close();
        throw error;
      }
      return { plugin: proxy, address: source.address, aborted: never };
    }

    const command = await resolvePluginBinary(source, { baseDir: this.config.baseDir, dataDir: this.config.host.dataDir });
    if (source.sha256 !== undefined) await checkPinnedFile(entry.name, command.path, source.sha256);
    const transport = await this.transports.prepare(entry.name, source);
    runtime.socket = transport.socket;
    // A boot slot from port allocation to the port line: see boot-slots.ts.
    const { process: proc, port: actual, announced, latePort } = await this.boots.run(async () => {
      const port = await this.ports.allocate();
      runtime.port = port;
      return PluginProcess.spawn({
        // QNTX_HOST_PID lets the SDK's serve() exit when this host dies (parent-death watch).
        name: entry.name, command, port, args: source.args, env: { ...source.env, ...transport.env, QNTX_HOST_PID: String(process.pid) }, cwd: source.cwd ?? this.config.baseDir,
        portLineTimeoutMs: this.config.host.portLineTimeoutMs, logger: log, output: this.services.logs?.forPlugin(entry.name),
      });
    });
    runtime.process = proc;
    this.pidFile?.add(entry.name, proc.pid);
    const address = `127.0.0.1:${actual}`;
    // Once spawned, an exit while starting aborts the start with the reason; an exit later is a crash.
    const aborted = proc.exited.then((exit) => {
      const when = announced ? "exited while starting, before answering Metadata" : "exited before announcing its port";
      throw new QntxError("EXITED_BEFORE_PORT", `plugin ${entry.name} ${when} (${describeExit(exit)})${proc.tail()}`, { hint: proc.hint });
    });
    aborted.catch(() => undefined);
    proc.once("exit", (exit) => this.onExit(entry.name, proc, describeExit(exit)));
    if (transport.needsAnnouncement) {
      // No "assume the port": what to dial (socket, certificate) is only known from the plugin's lines.
      const port = announced ? actual : await Promise.race([latePort, delay(this.config.host.readyTimeoutMs).then(() => undefined), aborted]);
      if (port === undefined) {
        throw new QntxError("PORT_TIMEOUT", `plugin ${entry.name} announced neither its port nor its socket within ${this.config.host.portLineTimeoutMs + this.config.host.readyTimeoutMs} ms`, { hint: proc.hint ?? "check the plugin's log: qntx plugin logs " + entry.name });
      }
      const channel = transport.channel(port, proc.announced);
      const tlsProxy = new ExternalDomainProxy(channel.target, channel);
      try {
        await waitForMetadata(tlsProxy, entry.name, channel.target, this.config.host.readyTimeoutMs, aborted, channel.classify);
      } catch (error) {
        tlsProxy.close();
        throw error;
      }
      return { plugin: tlsProxy, pid: proc.pid, address: channel.target, aborted };
    }
    const proxy = new ExternalDomainProxy(address);
    // No port line in time: we poll the port passed, but a port line that comes meanwhile ends
    // the poll at once. It means the plugin listens now, and the poll's channel, refused until
    // then, would only reconnect after grpc-js's backoff (1 s and growing: measured 1.5 s lost
    // per plugin when twenty started together).
    const lateLine = announced ? undefined : latePort.then((port): never => {
      throw new LatePortLine(port);
    });
    lateLine?.catch(() => undefined);
    try {
      await waitForMetadata(proxy, entry.name, address, this.config.host.readyTimeoutMs, lateLine ? Promise.race([aborted, lateLine]) : aborted);
    } catch (error) {
      proxy.close();
      if (announced) throw error;
      let late: number | undefined;
      if (error instanceof LatePortLine) {
        late = error.port;
      } else {
        // We assumed the port passed (no port line in time) and found nothing, or someone else,
        // there. A port line that shows up after all is the truth: try there once.
        late = await Promise.race([latePort, delay(this.config.host.readyTimeoutMs).then(() => undefined), aborted]);
        if (late === undefined || late === actual) throw error;
      }
      const lateAddress = `127.0.0.1:${late}`;
      if (late !== actual) log.warn({ assumed: actual, announced: late }, "the port line came late; using the port it announced");
      const lateProxy = new ExternalDomainProxy(lateAddress);
      try {
        await waitForMetadata(lateProxy, entry.name, lateAddress, this.config.host.readyTimeoutMs, aborted);
      } catch (lateError) {
        lateProxy.close();
        throw lateError;
      }
      return { plugin: lateProxy, pid: proc.pid, address: lateAddress, aborted };
    }
    return { plugin: proxy, pid: proc.pid, address, aborted };
  }

  private onExit(name: string, proc: PluginProcess, how: string): void {
    const runtime = this.runtimes.get(name);
    if (!runtime || runtime.process !== proc) return;
    runtime.process = undefined;
    this.pidFile?.remove(name);
    if (runtime.port !== undefined) this.ports.release(runtime.port);
    this.transports.removeSocket(runtime.socket);
    if (runtime.stopping) return;
    // Whatever the plugin started goes with it.
    void proc.reapGroup(1000);
    const state = this.registry.get(name)?.state;
    if (state === "running" || state === "paused") {
      this.logger.error({ plugin: name }, `plugin exited unexpectedly (${how})`);
      this.crashed(name, `exited unexpectedly (${how})${proc.tail()}`);
    }
  }

  /**
   * A plugin crashed (exited, stopped answering, or failed to come back): its routes answer
   * 503 while it is `restarting`, and it is started again after a backoff — unless it has
   * spent its crash budget, in which case it stays `failed` until someone starts it.
   */
  private crashed(name: string, reason: string): void {
    const runtime = this.runtimes.get(name);
    if (!runtime || this.closing || !runtime.wanted) return;
    this.services.tokens.revoke(name);
    const { crashBudget, crashWindowMs } = this.config.host;
    const decision = runtime.crashes.record(Date.now());
    if (decision.giveUp) {
      this.registry.fail(name, `${reason}; crashed ${decision.crashes} times within ${Math.round(crashWindowMs / 1000)} s (budget ${crashBudget}): not restarting until \`qntx plugin start ${name}\``);
      this.logger.error({ plugin: name, crashes: decision.crashes }, "crash budget spent: plugin stays failed");
      return;
    }
    this.registry.fail(name, reason);
    this.registry.setState(name, "restarting");
    this.logger.warn({ plugin: name, delayMs: decision.delayMs, crashes: decision.crashes }, "restarting crashed plugin");
    runtime.restartTimer = setTimeout(() => {
      runtime.restartTimer = undefined;
      if (!runtime.wanted) return;
      this.serialize(name, () => (runtime.wanted ? this.doStart(name) : Promise.resolve())).catch((error: unknown) => {
        this.crashed(name, `restart failed: ${error instanceof Error ? error.message : String(error)}`);
      });
    }, decision.delayMs);
    runtime.restartTimer.unref();
  }

  private cancelRestart(name: string): void {
    const runtime = this.runtimes.get(name);
    if (runtime?.restartTimer) {
      clearTimeout(runtime.restartTimer);
      runtime.restartTimer = undefined;
    }
  }

  private forgiveCrashes(name: string): void {
    this.cancelRestart(name);
    this.runtimes.get(name)?.crashes.reset();
  }

  private async doStop(name: string, finalState: "stopped" | "restarting" = "stopped"): Promise<void> {
    this.entry(name);
    const runtime = this.runtimes.get(name)!;
    if (finalState === "stopped") this.cancelRestart(name);
    runtime.stopping = true;
    const budget = this.config.host.shutdownTimeoutMs;
    // A dialed plugin runs under someone else's care: stopping or restarting it only lets go of
    // its connection (a restart dials it again and re-initializes it). A spawned one that is
    // stopped (SIGSTOP, a debugger) or left its last Health call unanswered would leave
    // Shutdown unanswered too: its deadline would only delay the kill, which gets the short
    // grace of a hung plugin.
    const hung = runtime.process !== undefined && (isStopped(runtime.process.pid) || this.registry.unansweredHealthChecks(name) > 0);
    await this.registry.shutdown(name, Math.min(budget, 2000), { detach: this.entry(name).source.kind === "address" || hung });
    this.services.tokens.revoke(name);
    await this.killProcess(runtime, { hung });
    this.registry.setState(name, finalState);
  }

  /** The InitializeRequest endpoints of a plugin: dialed ones may get the TLS services server. */
  private endpointsFor(entry: PluginEntry): Omit<InitializeRequest, "authToken" | "config"> {
    return entry.source.kind === "address" ? (this.services.dialedEndpoints ?? this.services.endpoints) : this.services.endpoints;
  }

  /**
   * Gives a spawned process the rest of the shutdown budget to exit, then SIGTERM/SIGKILL. A
   * `hung` one (it left Health calls unanswered) or a stopped one gets no time to exit
   * by itself and only {@link HUNG_GRACE_MS} between SIGTERM and SIGKILL (none when stopped).
   */
  private async killProcess(runtime: Runtime, options: { hung?: boolean } = {}): Promise<void> {
    const proc = runtime.process;
    if (!proc) {
      // A spawn that failed may still hold its reserved port.
      if (runtime.port !== undefined) this.ports.release(runtime.port);
      runtime.port = undefined;
      return;
    }
    runtime.stopping = true;
    const budget = this.config.host.shutdownTimeoutMs;
    if (options.hung || isStopped(proc.pid)) {
      await proc.stop(Math.min(HUNG_GRACE_MS, budget));
    } else {
      const graceful = await Promise.race([proc.exited.then(() => true), delay(Math.min(500, budget)).then(() => false)]);
      if (!graceful) await proc.stop(budget);
    }
    await proc.reapGroup(Math.min(1000, this.config.host.shutdownTimeoutMs));
    runtime.process = undefined;
    if (runtime.port !== undefined) this.ports.release(runtime.port);
    this.transports.removeSocket(runtime.socket);
  }

  private serialize(name: string, op: () => Promise<void>): Promise<void> {
    const runtime = this.runtimes.get(name);
    if (!runtime) return Promise.reject(this.entryError(name));
    const next = runtime.queue.then(op, op);
    runtime.queue = next.catch(() => undefined);
    return next;
  }

  private entryError(name: string): QntxError {
    try {
      this.entry(name);
    } catch (error) {
      return error as QntxError;
    }
    return new QntxError("PLUGIN_NOT_FOUND", `no plugin named "${name}"`);
  }
}

/**
 * SIGTERM → SIGKILL grace for a plugin that stopped answering Health. Not shutdown_timeout_ms:
 * that is for a plugin finishing its work, which a hung one is not, and a plugin whose event
 * loop is blocked never runs its SIGTERM handler at all. A second still lets one whose signal
 * handling works (a thread of its own) end cleanly.
 */
const HUNG_GRACE_MS = 1000;

/** Whether the host starts the plugin by itself (at boot, or when the config adds it). */
function startsAtBoot(entry: PluginEntry): boolean {
  return entry.enabled && (entry.source.kind !== "binary" || entry.source.autoStart);
}

function kindOf(entry: PluginEntry): "builtin" | "spawned" | "dialed" {
  return entry.source.kind === "builtin" ? "builtin" : entry.source.kind === "address" ? "dialed" : "spawned";
}

/** The port line came while Metadata was polled on the assumed port (see launch). */
class LatePortLine extends Error {
  constructor(readonly port: number) {
    super(`the plugin announced port ${port}`);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
