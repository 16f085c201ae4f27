/**
 * The plugin lifecycle as a table: every move a plugin's state may make, and what causes it.
 * `PluginInstance` changes state only through {@link checkTransition}, which throws on a move
 * this table does not list, so the table is the lifecycle, not a drawing of it. The table in
 * docs/architecture.md ("The plugin lifecycle") is this one, row for row: a test compares them.
 *
 * Decisions the table records (see the docs for why):
 * - A crash goes straight to `restarting` with its reason (`failed` only when the crash budget
 *   is spent): `failed` always means "stays down until someone starts it".
 * - A person's restart goes `restarting → loading → running` without passing through `stopped`.
 * - A plugin a person paused comes back `paused` from a crash (`loading → paused`).
 * - A restart after a crash that fails to start counts as another crash: `loading → restarting`
 *   while budget is left.
 */
import type { PluginState } from "./state.js";

/** One row of the table: the states a move may start from, where it ends, and why. */
export interface Transition {
  readonly from: readonly PluginState[];
  readonly to: PluginState;
  /** What causes the move, as the docs' table says it. */
  readonly when: string;
}

/** Every allowed move. Staying in the same state is not a move (no event, nothing to check). */
export const TRANSITIONS: readonly Transition[] = [
  { from: ["stopped", "failed"], to: "loading", when: "`start` (at boot, from the CLI or API, by a reload), once its dependencies run" },
  {
    from: ["restarting"], to: "loading",
    when: "the restart itself: a person's at once, a crashed plugin's when its backoff timer fires (`restart_backoff_base_ms` doubling up to `restart_backoff_max_ms`)",
  },
  { from: ["loading"], to: "running", when: "`Metadata` name and `qntx_version` ok, `Initialize` answered" },
  { from: ["loading"], to: "paused", when: "the same, for a plugin that was paused when it crashed: it comes back paused" },
  {
    from: ["loading"], to: "failed",
    when: "any start error (binary, port line, readiness, name, version, config, `Initialize`), with reason and hint, the process killed; or a crashed plugin's restart failed with the crash budget spent",
  },
  { from: ["loading"], to: "restarting", when: "a crashed plugin's restart failed, crash budget left: counted as another crash" },
  { from: ["running"], to: "paused", when: "`pause`" },
  { from: ["paused"], to: "running", when: "`resume`" },
  {
    from: ["running", "paused"], to: "restarting",
    when: "a crash, crash budget left, with its reason: the process exited by itself, or (running) `health_failures` Health calls in a row went unanswered and it was killed",
  },
  {
    from: ["running", "paused"], to: "failed",
    when: "a crash with the crash budget spent (`crash_budget` crashes within `crash_window_ms`): no more automatic restarts",
  },
  { from: ["running"], to: "failed", when: "new config refused by the plugin's `Initialize` (`reconfigure`); the process is killed" },
  {
    from: ["stopped", "restarting"], to: "failed",
    when: "`start` refused for a dependency (not configured, disabled, failed to start, wrong version, or a cycle); the plugin does not start",
  },
  { from: ["stopped", "running", "paused", "failed"], to: "restarting", when: "`restart` by a person (the crash count is reset)" },
  {
    from: ["running", "paused", "failed", "restarting"], to: "stopped",
    when: "`stop` (refused while running dependents need it, unless forced); a reload's remove or replace stops it first",
  },
];

/**
 * A move the table does not list: a bug in the host, never a person's mistake (the operations
 * check what a person may do, such as pausing only a running plugin, before they move).
 */
export class IllegalTransitionError extends Error {
  readonly hint = "this is a bug in the host: please report it with the host's log; the plugin keeps its state";

  constructor(readonly plugin: string, readonly from: PluginState, readonly to: PluginState) {
    super(`plugin ${plugin} cannot go from ${from} to ${to}: the lifecycle (host/src/plugin/transitions.ts) has no such move`);
    this.name = "IllegalTransitionError";
  }
}

/** The rows that allow moving `from` → `to` (empty: not allowed). */
export function transitionsBetween(from: PluginState, to: PluginState): Transition[] {
  return TRANSITIONS.filter((t) => t.to === to && t.from.includes(from));
}

/**
 * Checks a move of `plugin` before it is made.
 * @returns false when `from` equals `to` (no move: nothing to emit)
 * @throws IllegalTransitionError when the table lists no such move
 */
export function checkTransition(plugin: string, from: PluginState, to: PluginState): boolean {
  if (from === to) return false;
  if (transitionsBetween(from, to).length === 0) throw new IllegalTransitionError(plugin, from, to);
  return true;
}
