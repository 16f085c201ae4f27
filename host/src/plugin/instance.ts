/**
 * PluginInstance: one configured plugin, and the one owner of its state. It holds its process
 * (or channel), what it announced, its crash history and restart timer, and performs its
 * start, stop, restart, pause, resume and re-configuration one at a time (an operation queue
 * per plugin, so a stop never interleaves with a start). Every state change goes through the
 * lifecycle table (transitions.ts) and is emitted as `plugin:state` on the registry.
 *
 * What is not here: dependencies and boot order (the manager), the calls every kind of plugin
 * shares (plugin-record.ts), launching a run (launch.ts), the process's kill (process-slot.ts).
 */
import type { Logger } from "pino";
import { QntxError, type InitializeRequest, type InitializeResponse } from "@qntx/protocol";
import type { PluginEntry } from "../config/types.js";
import { checkedConfig, wantedConfig } from "./config-check.js";
import { CrashRestarts } from "./crash-policy.js";
import type { DomainPlugin } from "./domain-plugin.js";
import { endpointsFor, kindOf, type InstanceContext } from "./instance-context.js";
import { configKeyLocations, layeredConfig, resolveConfigValues, writePluginConfigFile } from "./plugin-config.js";
import type { PluginInfo } from "./plugin-info.js";
import { PluginRecord } from "./plugin-record.js";
import { describeExit, type PluginProcess } from "./process.js";
import { ProcessSlot } from "./process-slot.js";
import type { PluginState } from "./state.js";
import { checkTransition } from "./transitions.js";

/** One configured plugin; see the file comment. */
export class PluginInstance {
  private current: PluginState = "stopped";
  private readonly record: PluginRecord;
  private readonly slot: ProcessSlot;
  /** Crash budget and the pending automatic restart after a crash. */
  private readonly crashes: CrashRestarts;
  /** Consecutive Health calls that got no answer, toward `health_failures`. */
  private healthMisses = 0;
  /**
   * Whether a person (or the config at boot) wants it running. A stop clears it, so a crash
   * path already under way (a restart timer, a failed restart, a health kill) never brings
   * back a plugin that was stopped.
   */
  private wantedRunning = false;
  /** A person paused it: a crash's restart brings it back `paused`. Gone once it is resumed, stopped, failed or restarted by a person. */
  private held = false;
  /** Set once it is removed from the config: an operation queued before that starts nothing. */
  private disposed = false;
  /** Tail of the operation queue. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;

  constructor(private configured: PluginEntry, private readonly ctx: InstanceContext) {
    const { crashBudget, crashWindowMs, restartBackoffBaseMs, restartBackoffMaxMs } = ctx.config.host;
    this.crashes = new CrashRestarts({ budget: crashBudget, windowMs: crashWindowMs, baseMs: restartBackoffBaseMs, maxMs: restartBackoffMaxMs });
    this.record = new PluginRecord(configured.name, kindOf(configured));
    this.slot = new ProcessSlot(configured.name, ctx.slots);
    this.log = ctx.logger.child({ plugin: configured.name });
  }

  /** The plugin's name (its config table's). */
  get name(): string {
    return this.configured.name;
  }

  /** Its config entry. */
  get entry(): PluginEntry {
    return this.configured;
  }

  /** Its state; it changes only through transitions.ts. */
  get state(): PluginState {
    return this.current;
  }

  /** Whether it should be running: started (by a person or at boot) and not stopped since. */
  get wanted(): boolean {
    return this.wantedRunning;
  }

  /** Restarts since the host started, a person's and a crash's alike (the dashboard shows them). */
  private restarts = 0;

  /** When the automatic restart after a crash is due (epoch ms); undefined when none is pending. */
  get restartAt(): number | undefined {
    return this.crashes.restartAt;
  }

  /** The control API's snapshot. */
  info(): PluginInfo {
    return { ...this.record.info(this.current), restarts: this.restarts };
  }

  /** The live plugin, only while it is `running`. */
  runningPlugin(): DomainPlugin | undefined {
    return this.current === "running" ? this.record.plugin : undefined;
  }

  /** What it announced in its last successful Initialize (handlers, schedules, watchers). */
  get announced(): InitializeResponse | undefined {
    return this.record.announced;
  }

  /** Consecutive Health calls of the current run left unanswered (0 while it answers). */
  get unansweredHealthChecks(): number {
    return this.record.unanswered;
  }

  /** Takes a changed config entry (the manager stopped the plugin first). */
  replaceEntry(entry: PluginEntry): void {
    this.configured = entry;
    this.record.kind = kindOf(entry);
  }

  /** Marks it wanted and forgives its past crashes (a person started it: the crash budget starts afresh). */
  want(): void {
    this.crashes.forgive();
    this.wantedRunning = true;
  }

  /** Starts it (no-op when running or paused); rejects with the reason it failed to start. Dependencies are the manager's. */
  start(): Promise<void> {
    return this.serialize(() => this.doStart(false));
  }

  /** Stops it: Shutdown RPC, SIGTERM to its process group, SIGKILL after the budget. Idempotent. */
  stop(): Promise<void> {
    this.wantedRunning = false;
    this.crashes.cancel();
    return this.serialize(async () => {
      this.crashes.cancel();
      await this.endRun(true);
    });
  }

  /** Stops then starts it, `restarting` in between (never `stopped`); forgives its past crashes. */
  restart(): Promise<void> {
    this.want();
    return this.serialize(async () => {
      this.held = false;
      this.moveTo("restarting");
      await this.endRun(false);
      await this.doStart(false);
    });
  }

  /** Pauses it: its HTTP answers 503 and its jobs wait (they do not fail) until resumed, even across a crash. */
  pause(): Promise<void> {
    return this.switchTo("paused");
  }

  /** Resumes it: it serves again and its waiting jobs run. */
  resume(): Promise<void> {
    return this.switchTo("running");
  }

  /**
   * Changes its config: validates it against the running plugin's schema, stores it in the
   * plugin's own file (so it survives restarts), and re-initializes a running plugin with it.
   * Nothing is written when it is invalid; a plugin whose Initialize refuses it is `failed`.
   */
  reconfigure(values: Record<string, string>): Promise<void> {
    return this.serialize(async () => {
      const { config, services } = this.ctx;
      const plugin = this.runningPlugin();
      const merged = resolveConfigValues(layeredConfig(this.entry, config.host.dataDir, values), process.env, this.name, `new config of ${this.name}`);
      const checked = plugin ? await checkedConfig(config, this.name, plugin, merged, configKeyLocations(config, this.entry, values)) : merged;
      if (plugin) {
        try {
          await this.initializeRun({ ...endpointsFor(services, this.entry), authToken: services.tokens.issue(this.name), config: checked });
        } catch (error) {
          // The plugin refused it: it is failed now, so its process goes too; the file is untouched.
          this.fail(error);
          services.tokens.revoke(this.name);
          await this.slot.kill();
          throw error;
        }
      }
      // Written only once the plugin took it, so a refused config never outlives the request.
      writePluginConfigFile(config.host.dataDir, this.name, values);
    });
  }

  /**
   * One Health call while it runs. `health_failures` unanswered calls in a row (hung, or its
   * connection is gone) count as a crash: it is killed and restarted like one that exited.
   */
  async checkHealth(timeoutMs: number): Promise<void> {
    if (this.current !== "running") return;
    const health = await this.record.checkHealth(timeoutMs);
    if (!health) return;
    this.ctx.events.emit("plugin:health", { name: this.name, health });
    this.healthMisses = health.answered ? 0 : this.healthMisses + 1;
    const failures = this.ctx.config.host.healthFailures;
    if (this.healthMisses < failures) return;
    this.healthMisses = 0;
    const reason = `stopped answering Health (${failures} checks in a row: ${health.message})`;
    this.log.error(`plugin ${reason}`);
    this.serialize(async () => {
      // A stop or restart may have come first: only a plugin still running is killed.
      if (!this.wantedRunning || this.current !== "running") return;
      await this.slot.kill({ hung: true });
      this.crashed(reason);
    }).catch((error: unknown) => this.log.error({ err: String(error) }, "could not restart the plugin that stopped answering Health"));
  }

  /** A start was refused for a dependency: a plugin that is not up (stopped, failed, restarting) is `failed` with the reason. */
  dependencyFailed(error: unknown): void {
    // A running or paused one keeps its process (failing it would leave that process running
    // unseen), and a loading one is a start under way (a crash's restart) that ends by itself.
    if (this.current === "stopped" || this.current === "failed" || this.current === "restarting") this.fail(error);
  }

  /** Lets go of it for good (removed from the config; stopped first). */
  dispose(): void {
    this.disposed = true;
    this.crashes.cancel();
    this.record.drop();
  }

  /** Launches a run and initializes it. `afterCrash`: the automatic restart of a crashed plugin. */
  private async doStart(afterCrash: boolean): Promise<void> {
    // A paused plugin is live: starting it again would spawn a second process.
    if (this.current === "running" || this.current === "paused") return;
    if (this.disposed) throw new QntxError("PLUGIN_NOT_FOUND", `plugin ${this.name} was removed from the config`, { hint: "qntx plugin list shows the configured plugins" });
    const { config, services } = this.ctx;
    // Whatever is left of a previous run (a failed re-Initialize keeps its process) goes first.
    await this.slot.kill();
    this.slot.stopping = false;
    this.healthMisses = 0;
    this.moveTo("loading");
    let unregistered: DomainPlugin | undefined;
    try {
      // Config problems that need no plugin (bad per-plugin file, unset ${VAR}) fail before spawning.
      const values = wantedConfig(config, this.entry);
      const { plugin, pid, address, aborted } = await this.ctx.launch(this.entry, this.slot, this.log, (proc) => {
        proc.once("exit", (exit) => this.onExit(proc, describeExit(exit)));
      });
      unregistered = plugin;
      const checked = await Promise.race([checkedConfig(config, this.name, plugin, values, configKeyLocations(config, this.entry)), aborted]);
      this.record.attach(plugin, { pid, address });
      unregistered = undefined;
      const request: InitializeRequest = { ...endpointsFor(services, this.entry), authToken: services.tokens.issue(this.name), config: checked };
      await Promise.race([this.initializeRun(request), aborted]);
      this.log.info({ pid, address, routes: this.record.routes.length }, "plugin running");
    } catch (error) {
      // A plugin launched but never registered still holds its gRPC channel.
      unregistered?.close?.();
      services.tokens.revoke(this.name);
      // A crashed plugin's restart that fails is one more crash; any other start is failed.
      if (!(afterCrash && this.crashed(`restart failed: ${error instanceof Error ? error.message : String(error)}`))) this.fail(error);
      await this.slot.kill();
      this.log.error({ code: error instanceof QntxError ? error.code : undefined }, error instanceof QntxError ? error.describe() : String(error));
      throw error;
    }
  }

  /** Checks and initializes the run attached to the record; it is then `running` (or `paused`: see `held`). */
  private async initializeRun(request: InitializeRequest): Promise<void> {
    await this.record.initialize(request, this.ctx.config.host.initializeTimeoutMs, this.ctx.hostVersion);
    this.moveTo(this.held ? "paused" : "running");
    this.ctx.events.emit("plugin:initialized", { name: this.name });
  }

  /**
   * Ends the current run: Shutdown (not for a dialed plugin, whose process is not ours, nor
   * for a hung or stopped one, which would leave it unanswered), then the process is killed.
   * With `toStopped` the plugin is `stopped` once its connection is closed.
   */
  private async endRun(toStopped: boolean): Promise<void> {
    const budget = this.ctx.config.host.shutdownTimeoutMs;
    this.slot.stopping = true;
    // A stopped process (SIGSTOP, a debugger) or one that left its last Health call unanswered
    // would leave Shutdown unanswered too: its deadline would only delay the kill, which gets
    // the short grace of a hung plugin.
    const hung = this.slot.process !== undefined && (this.slot.isFrozen || this.record.unanswered > 0);
    await this.record.shutdown(Math.min(budget, 2000), this.entry.source.kind === "address" || hung);
    if (toStopped) this.moveTo("stopped");
    this.ctx.services.tokens.revoke(this.name);
    await this.slot.kill({ hung });
  }

  private onExit(proc: PluginProcess, how: string): void {
    if (!this.slot.exited(proc) || this.slot.stopping) return;
    // Whatever the plugin started goes with it.
    void proc.reapGroup(1000);
    if (this.current === "running" || this.current === "paused") {
      this.log.error(`plugin exited unexpectedly (${how})`);
      this.crashed(`exited unexpectedly (${how})${proc.tail()}`);
    }
  }

  /**
   * A crash (it exited, stopped answering, or failed to come back): it is `restarting`, its
   * routes answering 503, and starts again after a backoff — unless it has spent its crash
   * budget, in which case it is `failed` until someone starts it.
   * @returns false when the crash is not acted on (the host is closing, or nobody wants it running)
   */
  private crashed(reason: string): boolean {
    if (this.ctx.closing() || !this.wantedRunning) return false;
    this.ctx.services.tokens.revoke(this.name);
    const { crashBudget, crashWindowMs } = this.ctx.config.host;
    const decision = this.crashes.record();
    if (decision.giveUp) {
      this.fail(`${reason}; crashed ${decision.crashes} times within ${Math.round(crashWindowMs / 1000)} s (budget ${crashBudget}): not restarting until \`qntx plugin start ${this.name}\``);
      this.log.error({ crashes: decision.crashes }, "crash budget spent: plugin stays failed");
      return true;
    }
    this.moveTo("restarting", this.record.fail(reason));
    this.log.warn({ delayMs: decision.delayMs, crashes: decision.crashes }, "restarting crashed plugin");
    this.crashes.schedule(decision.delayMs, () => {
      if (!this.wantedRunning) return;
      // A failure is handled inside (one more crash); nothing is left to report here.
      this.serialize(() => (this.wantedRunning ? this.doStart(true) : Promise.resolve())).catch(() => undefined);
    });
    return true;
  }

  /** Records why it failed, drops its connection and makes it `failed`. */
  private fail(error: unknown): void {
    this.moveTo("failed", this.record.fail(error));
  }

  /** Changes the state through the lifecycle table and emits `plugin:state`. */
  private moveTo(state: PluginState, reason?: string): void {
    const previous = this.current;
    if (!checkTransition(this.name, previous, state)) return;
    this.current = state;
    if (state === "restarting") this.restarts++;
    if (state === "failed" || state === "stopped") this.held = false;
    this.ctx.events.emit("plugin:state", reason === undefined ? { name: this.name, state, previous } : { name: this.name, state, previous, reason });
  }

  /** Pause (running → paused) or resume (paused → running), refused from any other state. */
  private switchTo(state: "paused" | "running"): Promise<void> {
    return this.serialize(async () => {
      const wanted = state === "paused" ? "running" : "paused";
      if (this.current !== wanted) {
        throw new QntxError("INVALID_ARGUMENT", `plugin ${this.name} is ${this.current}: only a ${wanted} plugin can be ${state === "paused" ? "paused" : "resumed"}`, {
          hint: wanted === "running" ? `start it first: qntx plugin start ${this.name}` : `resume applies to paused plugins; qntx plugin list shows states`,
        });
      }
      this.held = state === "paused";
      this.moveTo(state);
    });
  }

  private serialize(op: () => Promise<void>): Promise<void> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
