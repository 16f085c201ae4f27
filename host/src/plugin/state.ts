/**
 * The plugin lifecycle state machine.
 *
 * ```
 *            start                 ready (Metadata ok, Initialize ok)
 * stopped ─────────► loading ────────────────────────────────► running ◄──► paused
 *    ▲                 │ launch/ready/initialize error           │ exit / crash
 *    │                 ▼                                         ▼
 *    └──── stop ──── failed ◄──────────────────────────── (restart budget spent)
 *                      ▲
 * running ─ restart ─► restarting ─► loading ─► …
 * ```
 * `stop` is allowed from every state and always ends in `stopped`. Only `running` serves
 * requests; every other state answers HTTP 503 with `Retry-After`.
 */
export type PluginState = "loading" | "running" | "paused" | "stopped" | "failed" | "restarting";

/** Every state, in the order the control API documents them. */
export const PLUGIN_STATES: readonly PluginState[] = ["loading", "running", "paused", "stopped", "failed", "restarting"];

/** States in which a retry soon may succeed: the gateway answers 503 with Retry-After. */
export function isTransient(state: PluginState): boolean {
  return state === "loading" || state === "restarting" || state === "paused";
}
