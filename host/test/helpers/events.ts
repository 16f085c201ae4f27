/**
 * Waiting for what the host announces instead of polling for it: its log lines (a {@link LogBook}
 * every test host writes to) and its registry's `plugin:*` events. Each wait looks at what
 * already happened first, so an event that came before the wait began is not missed. And
 * `host.json` appearing, the sign that a `qntx server` process listens.
 */
import { EventEmitter } from "node:events";
import { existsSync, readFileSync, watch } from "node:fs";
import { dirname } from "node:path";
import type { HealthSnapshot, PluginInfo, Registry } from "../../src/plugin/registry.js";

/** One log line of the host, parsed. */
export type LogLine = Record<string, unknown> & { level: number; msg: string };

/** Default bound of a wait: generous, as tests share two cores; a wait that ends early costs nothing. */
const WAIT_MS = 15_000;

/** Runs `watch` until it settles the promise, or rejects naming `what` after `timeoutMs`. */
function bounded<T>(what: string, timeoutMs: number, watch: (done: (value: T) => void) => () => void): Promise<T> {
  return new Promise((resolve, reject) => {
    let stopWatching = (): void => undefined;
    const timer = setTimeout(() => {
      stopWatching();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    stopWatching = watch((value) => {
      clearTimeout(timer);
      stopWatching();
      resolve(value);
    });
  });
}

/** The log lines of a host, kept in order, with a "line" event for each new one. */
export class LogBook extends EventEmitter<{ line: [LogLine] }> {
  /** Every line so far, oldest first (tests read and filter it). */
  readonly lines: LogLine[] = [];

  /** Records a line and announces it. */
  push(line: LogLine): void {
    this.lines.push(line);
    this.emit("line", line);
  }

  /** Resolves with the first line matching `match`, logged already or from now on. */
  waitFor(match: (line: LogLine) => boolean, what: string, timeoutMs = WAIT_MS): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return bounded(`the log line: ${what}`, timeoutMs, (done) => {
      const onLine = (line: LogLine): void => {
        if (match(line)) done(line);
      };
      this.on("line", onLine);
      return () => this.off("line", onLine);
    });
  }
}

/**
 * Resolves with the plugin's info once `match` holds for it: now, or after a `plugin:state`,
 * `plugin:health` or `plugin:initialized` event of that plugin.
 */
export function pluginReaches(registry: Registry, name: string, match: (info: PluginInfo) => boolean, what: string, timeoutMs = WAIT_MS): Promise<PluginInfo> {
  const current = (): PluginInfo | undefined => {
    const info = registry.get(name);
    return info && match(info) ? info : undefined;
  };
  const now = current();
  if (now) return Promise.resolve(now);
  return bounded(`plugin ${name}: ${what}`, timeoutMs, (done) => {
    const onEvent = (event: { name: string }): void => {
      if (event.name !== name) return;
      const info = current();
      if (info) done(info);
    };
    const events = ["plugin:state", "plugin:health", "plugin:initialized", "plugin:added"] as const;
    for (const event of events) registry.on(event, onEvent);
    return () => {
      for (const event of events) registry.off(event, onEvent);
    };
  });
}

/** Resolves once the plugin is in `state` (see {@link pluginReaches}). */
export function pluginInState(registry: Registry, name: string, state: PluginInfo["state"], timeoutMs = WAIT_MS): Promise<PluginInfo> {
  return pluginReaches(registry, name, (info) => info.state === state, `state ${state}`, timeoutMs);
}

/** Resolves with the plugin's health once `match` holds for it (see {@link pluginReaches}). */
export async function pluginHealth(registry: Registry, name: string, match: (health: HealthSnapshot) => boolean, what: string, timeoutMs = WAIT_MS): Promise<HealthSnapshot> {
  const info = await pluginReaches(registry, name, (i) => i.health !== null && match(i.health), what, timeoutMs);
  return info.health!;
}

/** The URL in `hostFile` (a `host.json`), once it is there; undefined before. */
function readHostUrl(hostFile: string): string | undefined {
  if (!existsSync(hostFile)) return undefined;
  try {
    return (JSON.parse(readFileSync(hostFile, "utf8")) as { url?: string }).url;
  } catch {
    return undefined; // being written
  }
}

/**
 * Resolves with the URL of a `qntx server` process once it wrote `hostFile`
 * (`<data_dir>/host.json`, written when it listens), watching the folders above it.
 */
export function hostUrlOnceListening(hostFile: string, timeoutMs = 30_000): Promise<string> {
  const now = readHostUrl(hostFile);
  if (now) return Promise.resolve(now);
  // The data dir may not exist yet: watch the nearest existing folder, recursively.
  let watched = dirname(hostFile);
  while (!existsSync(watched)) watched = dirname(watched);
  return bounded(`${hostFile} to be written`, timeoutMs, (done) => {
    const check = (): void => {
      const url = readHostUrl(hostFile);
      if (url) done(url);
    };
    const watcher = watch(watched, { recursive: true }, check);
    check(); // written between the first look and the watch
    return () => watcher.close();
  });
}

/**
 * `settled`'s value, or undefined when it has not settled within `ms` (a process's exit awaited
 * with a bound). The timer is cleared either way, so no handle outlives the wait.
 */
export async function settledWithin<T>(settled: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
  try {
    return await Promise.race([settled, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** Kills `child` (SIGKILL) unless it has exited, and resolves once it has. */
export async function killAndWait(child: import("node:child_process").ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}
