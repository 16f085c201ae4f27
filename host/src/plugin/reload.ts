/**
 * Hot-swap, as QNTX promises it: the config is read again — when its file changes (debounced),
 * on SIGHUP, or on `qntx plugin reload` (`POST /api/plugins/reload`) — and the running set
 * follows it: added plugins start, removed ones stop, changed ones restart, the rest are not
 * touched. A config that does not load is refused whole, with its error logged, and the
 * running set stays as it was. `[host]` settings are read at start only: a change to them is
 * reported as needing a restart.
 */
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import type { Logger } from "pino";
import { isDeepStrictEqual } from "node:util";
import { diffPlugins } from "../config/diff.js";
import type { HostConfig } from "../config/types.js";
import type { PluginManager } from "./manager.js";

/** What one reload did. */
export interface ReloadSummary {
  readonly added: string[];
  readonly removed: string[];
  readonly restarted: string[];
  readonly unchanged: string[];
  /** `[host]` keys (and `[pulse]`) whose change waits for the next start. */
  readonly needsRestart: string[];
  /** Plugins whose start failed after the change (each is `failed`, with its reason). */
  readonly failed: Array<{ name: string; error: string }>;
}

/** Options of {@link ConfigReloader}. */
export interface ReloaderOptions {
  /** Reads and validates the config again; throws (a ConfigError) when it cannot be used. */
  readonly load: () => HostConfig;
  /** The settings the host runs with, to tell which `[host]` changes wait for a restart. */
  readonly running: HostConfig;
  readonly manager: PluginManager;
  readonly logger: Logger;
  /** Quiet time after the last change of the file before it is read (default 300 ms). */
  readonly debounceMs?: number;
}

/** Applies config changes to a running host, one reload at a time. */
export class ConfigReloader {
  private queue: Promise<unknown> = Promise.resolve();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ReloaderOptions) {}

  /**
   * Reads the config and brings the plugins in line with it. Reloads queue behind each other.
   * @throws the config's error when it does not load (nothing is changed then)
   */
  reload(reason: string): Promise<ReloadSummary> {
    const run = this.queue.then(() => this.apply(reason));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Reloads whenever `file` changes. The folder is watched, not the file: editors save by
   * writing a new file and renaming it over the old one, which a watch on the file would miss.
   */
  watch(file: string): void {
    if (this.watcher) return;
    const name = basename(file);
    const debounceMs = this.options.debounceMs ?? 300;
    this.watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.reload(`${name} changed`).catch(() => undefined);
      }, debounceMs);
    });
    this.watcher.on("error", (error) => this.options.logger.warn({ err: error.message, file }, "cannot watch the config file; use `qntx plugin reload` after editing it"));
  }

  /** Stops watching; a reload under way finishes. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
    await this.queue;
  }

  private async apply(reason: string): Promise<ReloadSummary> {
    const { manager, logger } = this.options;
    let next: HostConfig;
    try {
      next = this.options.load();
    } catch (error) {
      logger.error({ reason, err: error instanceof Error ? error.message : String(error) }, "config reload refused: the running plugins are left as they were");
      throw error;
    }
    const diff = diffPlugins(manager.configured(), next.plugins);
    const running = this.options.running;
    const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const needsRestart = [
      ...(Object.keys(next.host) as Array<keyof HostConfig["host"]>).filter((key) => !isDeepStrictEqual(next.host[key], running.host[key])).map(snake),
      // The service keys live in [host] too; [pulse]'s budget is read at start as well.
      ...(Object.keys(next.services) as Array<keyof HostConfig["services"]>).filter((key) => !isDeepStrictEqual(next.services[key], running.services[key])).map(snake),
      ...(isDeepStrictEqual(next.budget, running.budget) ? [] : ["[pulse]"]),
    ];
    const failed: ReloadSummary["failed"] = [];
    const record = (name: string, error: unknown): void => {
      failed.push({ name, error: error instanceof Error ? error.message : String(error) });
    };
    // Removed first (they free ports and names), then changed, then added: an added plugin
    // may depend on a changed one.
    await Promise.all(diff.removed.map(({ name }) => manager.remove(name).catch((error: unknown) => record(name, error))));
    for (const f of await manager.replace(diff.changed.map((c) => c.after))) record(f.name, f.error);
    for (const f of await manager.add(diff.added)) record(f.name, f.error);
    const touched = new Set([...diff.added, ...diff.removed, ...diff.changed.map((c) => c.after)].map((e) => e.name));
    const summary: ReloadSummary = {
      added: diff.added.map((e) => e.name), removed: diff.removed.map((e) => e.name), restarted: diff.changed.map((c) => c.after.name),
      unchanged: next.plugins.filter((e) => !touched.has(e.name)).map((e) => e.name), needsRestart, failed,
    };
    if (needsRestart.length) logger.warn({ keys: needsRestart }, "[host] settings changed: they take effect when the host restarts");
    logger.info({ reason, added: summary.added, removed: summary.removed, restarted: summary.restarted, failed: failed.map((f) => f.name) }, "config reloaded");
    return summary;
  }
}
