import { PulseError } from "./errors.js";

/** A registered handler. */
export interface HandlerEntry {
  /** `<plugin>/<handler>`. */
  qualified: string;
  plugin: string;
  /** The raw name the plugin announced. */
  handler: string;
}

/** Listener of registry changes (a plugin registered or unregistered). */
export type HandlerChangeListener = (plugin: string) => void;

const MAX_LISTED = 20;

/**
 * Routes job handler names to plugins. Every name a plugin announces in `handler_names` is
 * registered as `<plugin>/<handler>`; a bare name is accepted when exactly one plugin
 * announces it. Built-in and external plugins register the same way.
 */
export class HandlerRegistry {
  private readonly byPlugin = new Map<string, Map<string, HandlerEntry>>();
  private readonly byQualified = new Map<string, HandlerEntry>();
  private readonly byBare = new Map<string, HandlerEntry[]>();
  private readonly listeners = new Set<HandlerChangeListener>();
  private version = 0;
  private cached: { version: number; list: HandlerEntry[] } | undefined;

  /**
   * Registers the handlers of `plugin`, replacing its previous set.
   * @returns the qualified names, in the order given (duplicates dropped).
   */
  register(plugin: string, handlerNames: readonly string[]): string[] {
    if (!plugin || plugin.includes("/")) {
      throw new PulseError("INVALID_ARGUMENT", `invalid plugin name "${plugin}" for handlers: it must be non-empty and contain no "/"`);
    }
    for (const h of handlerNames) {
      if (!h || h.trim() !== h) {
        throw new PulseError("INVALID_ARGUMENT", `plugin ${plugin} announced an invalid handler name ${JSON.stringify(h)}`);
      }
    }
    this.removePlugin(plugin);
    const entries = new Map<string, HandlerEntry>();
    for (const handler of handlerNames) {
      if (entries.has(handler)) continue;
      const e: HandlerEntry = { qualified: `${plugin}/${handler}`, plugin, handler };
      entries.set(handler, e);
      this.byQualified.set(e.qualified, e);
      const same = this.byBare.get(handler);
      if (same) same.push(e);
      else this.byBare.set(handler, [e]);
    }
    this.byPlugin.set(plugin, entries);
    this.changed(plugin);
    return [...entries.values()].map((e) => e.qualified);
  }

  /** Removes every handler of `plugin`. Its queued jobs stay queued and wait for it. */
  unregister(plugin: string): void {
    if (this.removePlugin(plugin)) this.changed(plugin);
  }

  /**
   * Resolves a name given by a caller: `plugin/handler` (exact), or a bare name announced by
   * exactly one plugin.
   * @throws PulseError `UNKNOWN_HANDLER` (listing known handlers) or `AMBIGUOUS_HANDLER` (listing the candidates).
   */
  resolve(name: string): HandlerEntry {
    const exact = this.byQualified.get(name);
    if (exact) return exact;
    const bare = this.byBare.get(name);
    if (bare && bare.length === 1) return bare[0]!;
    if (bare && bare.length > 1) {
      const candidates = bare.map((e) => e.qualified).sort();
      throw new PulseError("AMBIGUOUS_HANDLER", `handler "${name}" is announced by several plugins: ${candidates.join(", ")}`, {
        hint: `name one of them in full, e.g. "${candidates[0]}"`,
      });
    }
    const slash = name.indexOf("/");
    if (slash > 0) {
      const plugin = name.slice(0, slash);
      const own = this.byPlugin.get(plugin);
      if (own) {
        throw new PulseError("UNKNOWN_HANDLER", `plugin ${plugin} has no handler "${name.slice(slash + 1)}"; it announces: ${listNames([...own.values()])}`);
      }
    }
    const known = this.list();
    throw new PulseError(
      "UNKNOWN_HANDLER",
      known.length === 0 ? `unknown handler "${name}": no plugin has announced any handler` : `unknown handler "${name}"; known handlers: ${listNames(known)}`,
      { hint: "a plugin announces its handlers in InitializeResponse.handler_names; check that it is loaded and ready" },
    );
  }

  /**
   * {@link resolve}, except that a qualified `plugin/handler` of a plugin that registered
   * nothing here is taken as given: on a database several hosts share, another host may run
   * that plugin (the job waits until one does).
   */
  resolveAnywhere(name: string): HandlerEntry {
    try {
      return this.resolve(name);
    } catch (err) {
      const slash = name.indexOf("/");
      const plugin = name.slice(0, slash);
      if (slash <= 0 || slash === name.length - 1 || this.byPlugin.has(plugin) || !(err instanceof PulseError) || err.code !== "UNKNOWN_HANDLER") throw err;
      return { qualified: name, plugin, handler: name.slice(slash + 1) };
    }
  }

  /** True when `qualified` is currently registered. */
  has(qualified: string): boolean {
    return this.byQualified.has(qualified);
  }

  /** Every registered handler, sorted by qualified name. */
  list(): HandlerEntry[] {
    if (this.cached?.version !== this.version) {
      this.cached = { version: this.version, list: [...this.byQualified.values()].sort((a, b) => (a.qualified < b.qualified ? -1 : 1)) };
    }
    return this.cached.list;
  }

  /** Plugins that have registered handlers. */
  plugins(): string[] {
    return [...this.byPlugin.keys()];
  }

  /** Calls `fn(plugin)` after every register/unregister. Returns an unsubscribe function. */
  onChange(fn: HandlerChangeListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private removePlugin(plugin: string): boolean {
    const old = this.byPlugin.get(plugin);
    if (!old) return false;
    for (const e of old.values()) {
      this.byQualified.delete(e.qualified);
      const rest = (this.byBare.get(e.handler) ?? []).filter((x) => x !== e);
      if (rest.length) this.byBare.set(e.handler, rest);
      else this.byBare.delete(e.handler);
    }
    this.byPlugin.delete(plugin);
    return true;
  }

  private changed(plugin: string): void {
    this.version++;
    for (const fn of this.listeners) fn(plugin);
  }
}

function listNames(entries: readonly HandlerEntry[]): string {
  const names = entries.map((e) => e.qualified);
  return names.length > MAX_LISTED ? `${names.slice(0, MAX_LISTED).join(", ")}, … (${names.length - MAX_LISTED} more)` : names.join(", ");
}
