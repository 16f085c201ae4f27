/**
 * A plugin under test served in this process: `startPlugin` on an ephemeral loopback port,
 * reached over real gRPC like a process would be, so what a test sees is what a host sees.
 */
import { definePlugin, isPluginDefinition, type PluginDefinition } from "../define.js";
import { startPlugin, type PluginHandle } from "../grpc-server.js";
import type { PluginDef } from "../types.js";

/** A plugin served in this process. */
export interface InProcessPlugin {
  readonly handle: PluginHandle;
  readonly definition: PluginDefinition;
  /** Waits up to `graceMs` for the server to stop (after a Shutdown RPC), then forces it. */
  stop(graceMs: number): Promise<void>;
}

/** Serves `plugin` (a `definePlugin` result or its argument) on `127.0.0.1:<ephemeral>`. */
export async function serveInProcess(plugin: PluginDefinition | PluginDef, shutdownTimeoutMs: number): Promise<InProcessPlugin> {
  const definition = isPluginDefinition(plugin) ? plugin : definePlugin(plugin);
  const handle = await startPlugin(definition, { host: "127.0.0.1", port: 0, shutdownTimeoutMs });
  return {
    handle,
    definition,
    async stop(graceMs) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), graceMs)));
      const outcome = await Promise.race([handle.closed.then(() => "closed" as const), late]);
      clearTimeout(timer);
      // Without a Shutdown that got through (or one still running its hook), stop it now.
      if (outcome === "late") await handle.close({ force: true });
      else await handle.close();
    },
  };
}
