/**
 * Registry: the host's index of plugins, built-in and external alike. Each plugin is one
 * `PluginInstance`, which owns its state; the registry only finds instances and takes
 * snapshots of them, and it is where their typed events ({@link PluginEvents}) are emitted:
 * `plugin:added`, `plugin:state`, `plugin:initialized`, `plugin:health`, `plugin:removed`.
 * The manager adds and removes instances; everyone else only reads and listens.
 */
import { EventEmitter } from "node:events";
import type { InitializeResponse } from "@qntx/protocol";
import type { DomainPlugin } from "./domain-plugin.js";
import type { PluginInstance } from "./instance.js";
import { compareNames } from "./name-order.js";
import type { PluginEvents, PluginInfo } from "./plugin-info.js";

export type { HealthSnapshot, PluginEvents, PluginInfo, PluginKind, PluginStateChange } from "./plugin-info.js";

/** See the file comment. */
export class Registry extends EventEmitter<PluginEvents> {
  private readonly instances = new Map<string, PluginInstance>();

  /** Indexes a newly configured plugin (the manager's); emits `plugin:added`. */
  add(instance: PluginInstance): void {
    this.instances.set(instance.name, instance);
    this.emit("plugin:added", { name: instance.name, kind: instance.info().kind });
  }

  /** Drops a plugin removed from the config (the manager's, once it is stopped); emits `plugin:removed`. */
  remove(name: string): void {
    const instance = this.instances.get(name);
    if (!instance) return;
    instance.dispose();
    this.instances.delete(name);
    this.emit("plugin:removed", { name });
  }

  /** The instance of a plugin, or undefined. */
  instance(name: string): PluginInstance | undefined {
    return this.instances.get(name);
  }

  /** Every instance, in the order they were configured. */
  all(): PluginInstance[] {
    return [...this.instances.values()];
  }

  /**
   * Consecutive Health calls the running plugin left unanswered (no answer within the deadline,
   * or its connection is gone); 0 while it answers. A plugin above 0 is `running` but hung: the
   * gateway answers 503 for it and Pulse claims none of its jobs until it answers again, or
   * `health_failures` misses get it restarted.
   */
  unansweredHealthChecks(name: string): number {
    return this.instances.get(name)?.unansweredHealthChecks ?? 0;
  }

  /** The live plugin behind a name, only while it is `running`. */
  runningPlugin(name: string): DomainPlugin | undefined {
    return this.instances.get(name)?.runningPlugin();
  }

  /** What the plugin announced in its last successful Initialize (handlers, schedules, watchers). */
  announced(name: string): InitializeResponse | undefined {
    return this.instances.get(name)?.announced;
  }

  /** Whether a plugin of that name is configured. */
  has(name: string): boolean {
    return this.instances.has(name);
  }

  /** A snapshot of one plugin, or undefined. */
  get(name: string): PluginInfo | undefined {
    return this.instances.get(name)?.info();
  }

  /** Snapshots of every plugin, sorted by name. */
  list(): PluginInfo[] {
    return [...this.instances.values()].sort((a, b) => compareNames(a.name, b.name)).map((i) => i.info());
  }
}
