/**
 * `startPlugin`: binds a gRPC server serving a plugin's `DomainPluginService`
 * (`domain-service.ts`) on a loopback port or a unix socket, in process.
 * It never touches `process` (argv, stdout, signals, exit): `serve` adds those, and tests
 * use this directly.
 */
import { chmodSync, rmSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { Server, type ServerCredentials } from "@grpc/grpc-js";
import { grpcOptions, PORT_PROBE_SPAN, type DomainPluginServiceServer } from "@qntx/protocol";
import { definePlugin, isPluginDefinition, type PluginDefinition } from "./define.js";
import { addProviderServices } from "./providers.js";
import { PluginRuntime } from "./runtime.js";
import { createDomainService } from "./domain-service.js";
import type { PluginDef } from "./types.js";
import { HEALTH_PROTO, HealthServiceDefinition, HealthStatus, addReflection, domainServiceDefinition, serviceNamesOf, unixTarget } from "@qntx/protocol";
import { serverCredentials, type ServerTls } from "./transport.js";

/** Options of {@link startPlugin}. */
export interface StartOptions {
  /** Interface to bind. Default `127.0.0.1`: plugins are reached over loopback only. */
  host?: string;
  /**
   * First port to try; when busy, the next ones are tried (docs/protocol.md §2).
   * Default 0: the OS picks a free port.
   */
  port?: number;
  /** How many ports to try from `port` up. Default `PORT_PROBE_SPAN` (64). */
  probeSpan?: number;
  /** Bound on the shutdown hook and on waiting for in-flight calls when stopping. Default 5000 ms. */
  shutdownTimeoutMs?: number;
  /**
   * Replaces RPCs of the service built for the plugin before it is served: how the
   * QNTX-format runner answers RegisterGlyphs and HandleHTTP for an adapted module.
   */
  wrapService?: (service: DomainPluginServiceServer) => DomainPluginServiceServer;
  /** Serve TLS (mutual when `tls.clientCa` is given) instead of plaintext. */
  tls?: ServerTls;
  /**
   * Listen on this unix socket (absolute path) instead of a TCP port; `host`, `port` and
   * `probeSpan` are then unused. A file left there is replaced; the socket is made 0600 and
   * removed when the server stops.
   */
  socket?: string;
}

/** A running plugin server. */
export interface PluginHandle {
  /** Port actually bound (0 on a unix socket). */
  readonly port: number;
  /** `host:port` to dial, or `unix:///path` on a unix socket. */
  readonly address: string;
  /** The unix socket's path, when listening on one. */
  readonly socket?: string;
  /** Settles once the server has stopped, through `close()` or the `Shutdown` RPC. */
  readonly closed: Promise<void>;
  /**
   * Runs the plugin's shutdown hook (once) and stops the server. Graceful by default (waits,
   * within `shutdownTimeoutMs`, for in-flight calls); `force` cancels them. Idempotent.
   */
  close(options?: { force?: boolean }): Promise<void>;
}

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;

/** The .proto files of what a plugin may serve (for reflection): its own service and the provider ones. */
const PLUGIN_PROTOS = ["domain.proto", "llm.proto", "embedding.proto", "vectorsearch.proto", "search.proto"];

/** `host:port`, with brackets around an IPv6 host. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Cheap check before asking grpc-js: a failed grpc-js bind prints an error line on stderr,
 * which the host would log as a plugin error for every busy port we skip.
 */
function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.once("error", (err: NodeJS.ErrnoException) => resolve(err.code !== "EADDRINUSE"));
    probe.listen({ host: host.replace(/^\[|\]$/g, ""), port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

function bindOnce(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port)));
  });
}

/**
 * Binds a unix socket. A stale socket file (a killed plugin's) would make the bind fail, so
 * it goes first; the socket is then narrowed to 0600 (its folder, the host's, is 0700).
 */
async function bindSocket(server: Server, path: string, credentials: ServerCredentials): Promise<void> {
  if (!path.startsWith("/")) throw new RangeError(`invalid socket path "${path}": expected an absolute path`);
  rmSync(path, { force: true });
  await bindOnce(server, unixTarget(path), credentials);
  chmodSync(path, 0o600);
}

async function bindWithProbe(server: Server, host: string, first: number, span: number, credentials: ServerCredentials): Promise<number> {
  if (!Number.isInteger(first) || first < 0 || first > 65535) throw new RangeError(`invalid port ${first}: expected 0–65535`);
  if (first === 0) return bindOnce(server, joinHostPort(host, 0), credentials);
  const last = Math.min(first + Math.max(1, span) - 1, 65535);
  for (let port = first; port <= last; port++) {
    if (!(await isPortFree(host, port))) continue;
    try {
      return await bindOnce(server, joinHostPort(host, port), credentials);
    } catch (err) {
      // Taken between the probe and the bind: try the next one. Anything else (an address
      // that is not local, a permission error) will not get better on the next port.
      if (!/EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
  throw new Error(`could not listen on ${host}: ports ${first}–${last} are all in use`);
}

/** Runs `hook` with a time bound; a failing or hanging hook is logged, never rethrown. */
async function runShutdownHook(def: PluginDefinition, timeoutMs: number): Promise<void> {
  if (!def.shutdown) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const outcome = await Promise.race([Promise.resolve().then(def.shutdown), timeout]);
    if (outcome === "timeout") def.log.warn("shutdown hook did not finish in time; stopping anyway", { timeoutMs });
  } catch (err) {
    def.log.error("shutdown hook failed", { err });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts serving `plugin` and resolves once it listens. The `Shutdown` RPC runs the shutdown
 * hook and stops this server (see `closed`); it does not exit the process.
 */
export async function startPlugin(plugin: PluginDefinition | PluginDef, options: StartOptions = {}): Promise<PluginHandle> {
  const def = isPluginDefinition(plugin) ? plugin : definePlugin(plugin);
  const host = options.host ?? "127.0.0.1";
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;

  const server = new Server(grpcOptions());
  const runtime = new PluginRuntime(def);
  const health = new HealthStatus();
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
      // A SIGTERM during a graceful stop must not wait for it.
      if (closeOptions.force) {
        forceRequested = true;
        forceNow?.();
      }
      return stopping;
    }
    stopping = (async () => {
      // Open WebSocket streams and health watches would hold a graceful stop until its timeout: close them first.
      runtime.closeWebSockets();
      health.close();
      await runShutdownHook(def, shutdownTimeoutMs);
      await stopServer(closeOptions.force === true || forceRequested);
      // After the server: jobs still finishing may have used the host clients.
      runtime.close();
      if (options.socket) rmSync(options.socket, { force: true });
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
  server.addService(domainServiceDefinition, options.wrapService ? options.wrapService(service) : service);
  const providerDefinitions = addProviderServices(server, def.provides, def.log);
  // The standard surfaces go-plugin hosts and grpcurl expect: health ("" and "plugin") and reflection.
  health.addToServer(server);
  addReflection(server, [...PLUGIN_PROTOS, HEALTH_PROTO], serviceNamesOf([domainServiceDefinition, ...providerDefinitions, HealthServiceDefinition]));

  const credentials = serverCredentials(options.tls);
  let port = 0;
  try {
    if (options.socket) await bindSocket(server, options.socket, credentials);
    else port = await bindWithProbe(server, host, options.port ?? 0, options.probeSpan ?? PORT_PROBE_SPAN, credentials);
  } catch (err) {
    server.forceShutdown();
    runtime.close();
    throw err;
  }
  if (options.socket) return { port, address: unixTarget(options.socket), socket: options.socket, closed, close };
  return { port, address: joinHostPort(host, port), closed, close };
}
