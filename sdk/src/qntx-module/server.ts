/**
 * Serves an adapted QNTX module: the SDK's `DomainPluginService` for its definition, wrapped
 * by the adapter, on a loopback port found by probing. This mirrors the SDK's `startPlugin`,
 * which cannot take a wrapped service: startPlugin builds its service itself, and the
 * SDK service answers RegisterGlyphs with no glyphs.
 */
import { createServer as createNetServer } from "node:net";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { domainServiceDefinition, grpcOptions, PORT_PROBE_SPAN } from "@qntx/protocol";
import { PluginRuntime } from "../runtime.js";
import { joinHostPort, type PluginHandle, type StartOptions } from "../server.js";
import { createDomainService } from "../service.js";
import type { AdaptedQntxModule } from "./adapter.js";

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;

/** Whether `port` can be bound; checked first because a failed grpc-js bind prints to stderr. */
function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.once("error", (err: NodeJS.ErrnoException) => resolve(err.code !== "EADDRINUSE"));
    probe.listen({ host: host.replace(/^\[|\]$/g, ""), port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

function bindOnce(server: Server, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
  });
}

/** Binds `first`, else the next free port up to `span` ports above it (PROTOCOL.md §2); 0 lets the OS pick. */
async function bindWithProbe(server: Server, host: string, first: number, span: number): Promise<number> {
  if (!Number.isInteger(first) || first < 0 || first > 65535) throw new RangeError(`invalid port ${first}: expected 0–65535`);
  if (first === 0) return bindOnce(server, joinHostPort(host, 0));
  const last = Math.min(first + Math.max(1, span) - 1, 65535);
  for (let port = first; port <= last; port++) {
    if (!(await isPortFree(host, port))) continue;
    try {
      return await bindOnce(server, joinHostPort(host, port));
    } catch (err) {
      if (!/EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
  throw new Error(`could not listen on ${host}: ports ${first}–${last} are all in use`);
}

/** Runs the module's shutdown hook once, bounded; a failure is logged, never rethrown. */
async function runShutdownHook(adapted: AdaptedQntxModule, timeoutMs: number): Promise<void> {
  const { definition: def } = adapted;
  if (!def.shutdown) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const outcome = await Promise.race([Promise.resolve().then(def.shutdown), timeout]);
    if (outcome === "timeout") def.log.warn("shutdown() did not finish in time; stopping anyway", { timeoutMs });
  } catch (err) {
    def.log.error("shutdown() failed", { err });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts serving `adapted` and resolves once it listens. The Shutdown RPC runs the module's
 * `shutdown()` and stops the server (`closed` settles); it does not exit the process.
 */
export async function startAdapted(adapted: AdaptedQntxModule, options: StartOptions = {}): Promise<PluginHandle> {
  const def = adapted.definition;
  const host = options.host ?? "127.0.0.1";
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const server = new Server(grpcOptions());
  const runtime = new PluginRuntime(def);
  let stopping: Promise<void> | undefined;
  let forceNow: (() => void) | undefined;
  let forceRequested = false;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });

  const stopServer = (force: boolean): Promise<void> =>
    new Promise<void>((resolve) => {
      forceNow = () => {
        server.forceShutdown();
        resolve();
      };
      if (force) return forceNow();
      // tryShutdown waits for in-flight calls, so the Shutdown answer is flushed first.
      const timer = setTimeout(forceNow, shutdownTimeoutMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });

  const close = (closeOptions: { force?: boolean } = {}): Promise<void> => {
    if (stopping) {
      if (closeOptions.force) {
        forceRequested = true;
        forceNow?.();
      }
      return stopping;
    }
    stopping = (async () => {
      runtime.closeWebSockets();
      await runShutdownHook(adapted, shutdownTimeoutMs);
      await stopServer(closeOptions.force === true || forceRequested);
      runtime.close();
      markClosed();
    })();
    return stopping;
  };

  const service = createDomainService(def, {
    onShutdownRequested: () => {
      def.log.info("shutdown requested by host");
      void close();
    },
  }, runtime);
  server.addService(domainServiceDefinition, adapted.wrapService(service));

  let port: number;
  try {
    port = await bindWithProbe(server, host, options.port ?? 0, options.probeSpan ?? PORT_PROBE_SPAN);
  } catch (err) {
    server.forceShutdown();
    runtime.close();
    throw err;
  }
  return { port, address: joinHostPort(host, port), closed, close };
}
