/**
 * Serves an adapted QNTX module: the SDK's `startPlugin` for its definition, with the
 * adapter's answers to RegisterGlyphs and HandleHTTP wrapped around the service.
 */
import { startPlugin, type PluginHandle, type StartOptions } from "../grpc-server.js";
import type { AdaptedQntxModule } from "./adapter.js";

/**
 * Starts serving `adapted` and resolves once it listens. The Shutdown RPC runs the module's
 * `shutdown()` and stops the server (`closed` settles); it does not exit the process.
 */
export function startAdapted(adapted: AdaptedQntxModule, options: StartOptions = {}): Promise<PluginHandle> {
  return startPlugin(adapted.definition, { ...options, wrapService: adapted.wrapService });
}
