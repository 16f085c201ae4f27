/**
 * Keeps Pulse in step with the plugins' lifecycle: when a plugin becomes `running`, its
 * announced handlers are registered as `<plugin>/<handler>`, its schedules synced, its
 * watchers armed on the attestation store, and waiting jobs woken. When it stops, its watchers
 * are disarmed; its handlers stay registered so jobs for it wait for it rather than being
 * refused (a restart re-registers them). When the config drops it, its handlers go. A watcher
 * enqueues one job per matching attestation, also across hosts sharing a database.
 */
import type { AttestationStore } from "@qntx/ats";
import { attestationAsQntxJson, type WatcherRegistration } from "@qntx/protocol";
import { createHash } from "node:crypto";
import { isPulseError, type Pulse } from "@qntx/pulse";
import type { Logger } from "pino";
import type { Registry } from "../plugin/registry.js";
import type { PluginStateChange } from "../plugin/plugin-info.js";

/** Connects the registry's `plugin:*` events to Pulse and the attestation store. Returns a detach function. */
export function connectPluginJobs(registry: Registry, pulse: Pulse, store: AttestationStore, logger: Logger): () => void {
  const disarm = new Map<string, Array<() => void>>();

  const onState = ({ name, state }: PluginStateChange): void => {
    if (state === "running") {
      // Back from a pause: its handlers and watchers stayed; let its waiting jobs run.
      pulse.wake();
    } else if (state !== "paused") {
      // A paused plugin keeps its watchers: the jobs they enqueue wait for it to resume.
      for (const stop of disarm.get(name) ?? []) stop();
      disarm.delete(name);
    }
  };

  const onRunning = async (name: string): Promise<void> => {
    const announced = registry.announced(name);
    if (!announced) return;
    for (const stop of disarm.get(name) ?? []) stop();
    // Armed before the first await: once the plugin is `running` (and the host `ready`), an
    // attestation written by anyone already triggers its watchers.
    disarm.set(name, announced.watchers.map((w) => armWatcher(name, w)));
    try {
      // Handlers are registered synchronously inside; only the schedule sync awaits.
      const qualified = await pulse.registerPlugin(name, announced.handlerNames, announced.schedules);
      if (qualified.length) logger.info({ plugin: name, handlers: qualified }, "job handlers registered");
      pulse.wake();
    } catch (error) {
      logger.error({ plugin: name, err: error instanceof Error ? error.message : String(error) }, "could not register the plugin's jobs");
    }
  };

  /** Enqueues `<plugin>/<handler>` for every new attestation matching the watcher, at most max_fires_per_second. */
  const armWatcher = (plugin: string, watcher: WatcherRegistration): (() => void) => {
    const perSecond = watcher.maxFiresPerSecond > 0 ? watcher.maxFiresPerSecond : Infinity;
    let windowStart = 0;
    let fired = 0;
    let dropped = 0;
    const filter = { subjects: watcher.subjects, predicates: watcher.predicates, contexts: watcher.contexts, actors: watcher.actors };
    return store.watch(filter, (attestation) => {
      const now = Date.now();
      if (now - windowStart >= 1000) {
        if (dropped) logger.warn({ plugin, watcher: watcher.id, dropped }, "watcher over its max_fires_per_second: attestations skipped");
        windowStart = now;
        fired = 0;
        dropped = 0;
      }
      if (fired >= perSecond) {
        dropped++;
        return;
      }
      fired++;
      // QNTX's payload (the attestation as its Go JSON), plus which watcher fired: QNTX plugins
      // decode it unchanged (Go's decoder ignores the extra key).
      const payload = { ...attestationAsQntxJson(attestation), watcher_id: watcher.id };
      // One job per watcher and attestation, whichever host saw it first: every host sharing a
      // database sees every attestation, and the others' enqueue of the same id is refused.
      const id = watcherJobId(plugin, watcher, attestation.id);
      pulse.enqueue({ id, handler: `${plugin}/${watcher.handlerName}`, payload, source: `watcher:${watcher.id || plugin}` }).catch((error: unknown) => {
        if (isPulseError(error, "INVALID_ARGUMENT") && error.message.includes("already exists")) return;
        logger.warn({ plugin, watcher: watcher.id, err: error instanceof Error ? error.message : String(error) }, "watcher could not enqueue its job");
      });
    });
  };

  const onInitialized = ({ name }: { name: string }): void => void onRunning(name);
  // A plugin gone from the config takes its handlers along: new jobs for them are refused.
  const onRemoved = ({ name }: { name: string }): void => pulse.unregisterPlugin(name);
  registry.on("plugin:state", onState);
  registry.on("plugin:initialized", onInitialized);
  registry.on("plugin:removed", onRemoved);
  return () => {
    registry.off("plugin:state", onState);
    registry.off("plugin:initialized", onInitialized);
    registry.off("plugin:removed", onRemoved);
    for (const stops of disarm.values()) for (const stop of stops) stop();
    disarm.clear();
  };
}

/** The job id of `watcher`'s run for one attestation: the same on every host. */
export function watcherJobId(plugin: string, watcher: WatcherRegistration, attestationId: string): string {
  const key = JSON.stringify([plugin, watcher.id, watcher.handlerName, attestationId]);
  return `watch-${createHash("sha256").update(key).digest("hex").slice(0, 32)}`;
}
