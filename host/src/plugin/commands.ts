/**
 * Plugin CLI commands as the host sees them: asked for lazily (on every listing, never
 * cached: a restarted or re-configured plugin may answer differently), with a deadline, and
 * with "no `commands` method" and UNIMPLEMENTED both meaning "no commands" — QNTX's current
 * proto has neither RPC, so most plugins built for QNTX answer that way.
 */
import { status } from "@grpc/grpc-js";
import type { CommandInfo } from "@qntx/protocol";
import { PluginCallError, type DomainPlugin } from "./domain-plugin.js";
import type { Registry } from "./registry.js";

/** Deadline of one `Commands` call (it only lists; a plugin that needs longer is stuck). */
export const COMMANDS_LIST_TIMEOUT_MS = 5_000;

/**
 * Deadline of each plugin's `Commands` call when listing all of them (`qntx --help`): a stuck
 * plugin is reported as unavailable rather than holding up the help of every other one.
 */
export const ALL_COMMANDS_TIMEOUT_MS = 2_000;

/** The commands of one plugin; [] when it has none. Throws a PluginCallError when the call fails. */
export async function pluginCommands(plugin: DomainPlugin, timeoutMs: number = COMMANDS_LIST_TIMEOUT_MS, signal?: AbortSignal): Promise<CommandInfo[]> {
  if (!plugin.commands) return [];
  try {
    return (await plugin.commands({ deadline: Date.now() + timeoutMs, signal })).commands;
  } catch (error) {
    if (error instanceof PluginCallError && error.code === status.UNIMPLEMENTED) return [];
    throw error;
  }
}

/** Commands of every running plugin that has some, and why others could not be asked. */
export interface CommandListing {
  readonly plugins: Array<{ plugin: string; commands: CommandInfo[] }>;
  readonly unavailable: Array<{ plugin: string; error: string }>;
}

/** Asks every running plugin for its commands, concurrently, each under its own deadline. */
export async function allCommands(registry: Registry, timeoutMs: number = ALL_COMMANDS_TIMEOUT_MS): Promise<CommandListing> {
  const running = registry.list().flatMap((info) => {
    const plugin = registry.runningPlugin(info.name);
    return plugin ? [{ name: info.name, plugin }] : [];
  });
  const answers = await Promise.allSettled(running.map(({ plugin }) => pluginCommands(plugin, timeoutMs)));
  const listing: CommandListing = { plugins: [], unavailable: [] };
  answers.forEach((answer, i) => {
    const name = running[i]!.name;
    if (answer.status === "rejected") {
      const error: unknown = answer.reason;
      const timedOut = error instanceof PluginCallError && error.code === status.DEADLINE_EXCEEDED;
      listing.unavailable.push({ plugin: name, error: timedOut ? `no answer to Commands within ${timeoutMs} ms` : `Commands failed: ${error instanceof Error ? error.message : String(error)}` });
    } else if (answer.value.length > 0) {
      listing.plugins.push({ plugin: name, commands: answer.value });
    }
  });
  return listing;
}
