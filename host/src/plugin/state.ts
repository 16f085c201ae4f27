import { errorBody, type ErrorBody } from "@qntx/protocol";

/**
 * The plugin lifecycle's states. Which moves between them are allowed, and why each happens,
 * is the table in transitions.ts (drawn in docs/architecture.md, "The plugin lifecycle");
 * `PluginInstance` (instance.ts) is the only one that changes a plugin's state. Only `running`
 * serves requests; every other state answers HTTP 503 with `Retry-After`.
 */
export type PluginState = "loading" | "running" | "paused" | "stopped" | "failed" | "restarting";

/** Every state, in the order the control API documents them. */
export const PLUGIN_STATES: readonly PluginState[] = ["loading", "running", "paused", "stopped", "failed", "restarting"];

/** Whether a plugin in `state` runs or is on its way (running, paused, loading, restarting): it may be serving its dependents. */
export function isActive(state: PluginState): boolean {
  return state === "running" || state === "paused" || state === "loading" || state === "restarting";
}

/** States in which a retry soon may succeed: the gateway answers 503 with Retry-After. */
export function isTransient(state: PluginState): boolean {
  return state === "loading" || state === "restarting" || state === "paused";
}

/** Seconds a client is told to wait (Retry-After) before retrying a plugin that is not running. */
export const RETRY_AFTER_SECONDS = "2";

/**
 * The body of the 503 that HTTP and WebSocket answer for a plugin that is not running: what
 * state it is in (and why, when it failed) and what to do about it.
 */
export function notRunningBody(name: string, state: PluginState, error: string | null): ErrorBody<{ state: PluginState }> {
  const hint =
    state === "paused" ? `resume it with \`qntx plugin resume ${name}\`` : isTransient(state) ? "retry shortly" : `start it with \`qntx plugin start ${name}\``;
  return errorBody("PLUGIN_UNAVAILABLE", `plugin ${name} is ${state}${error ? `: ${error}` : ""}`, hint, { state });
}

/**
 * The body of the 503 that HTTP and WebSocket answer for a plugin that is `running` but has
 * stopped answering Health (hung, stopped, or its connection gone): new requests are refused
 * at once rather than each waiting out its deadline, until it answers again or is restarted.
 */
export function notAnsweringBody(name: string, missed: number): ErrorBody<{ state: PluginState }> {
  return errorBody(
    "PLUGIN_UNAVAILABLE",
    `plugin ${name} is not answering (${missed} health check${missed === 1 ? "" : "s"} missed)`,
    "retry shortly: it serves again once it answers, and is restarted after health_failures missed checks",
    { state: "running" as PluginState },
  );
}
