/**
 * `serve`: the entry point of a plugin process. It adds the process contract
 * (docs/protocol.md §2) around `startPlugin`: flags, the stdout port line, signals and exit codes.
 */
import { formatCertLine, formatPortLine, formatSocketLine } from "@qntx/protocol";
import { parsePluginArgs } from "./args.js";
import { definePlugin, isPluginDefinition, type PluginDefinition } from "./define.js";
import { watchParent } from "./parent-watch.js";
import { startPlugin, type PluginHandle, type StartOptions } from "./grpc-server.js";
import { transportFromEnv, type TransportChoice } from "./transport.js";
import type { PluginDef } from "./types.js";

/** Options of {@link serve}. Flags on the command line win over `host` and `port`. */
export interface ServeOptions {
  /** Arguments to read flags from. Default `process.argv.slice(2)`. */
  argv?: readonly string[];
  /** Interface when no `--address` is given. Default `127.0.0.1`. */
  host?: string;
  /** Port when no `--port`, `--grpc-port` or `--address` is given. Default 0 (ephemeral). */
  port?: number;
  /** Bound on the shutdown hook and on in-flight calls when stopping. Default 5000 ms. */
  shutdownTimeoutMs?: number;
  /** Passed to `startPlugin` (see {@link StartOptions.wrapService}). */
  wrapService?: StartOptions["wrapService"];
  /**
   * Reports a failure to start (no free port, an address that is not local) in the caller's
   * own format instead of the SDK's log line: the QNTX-format runner prints
   * `qntx-ts-runner: error: …` and a hint there. The process exits 1 once it returns.
   */
  onStartError?: (err: Error) => void;
  /** Extra fields of the "listening" log line (the runner names itself there). */
  listeningFields?: Record<string, unknown>;
  /** Environment read for the transport (TLS, auto-mTLS, unix socket: see transport.ts). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `plugin` as a process: parses `--port N` / `--grpc-port N` / `--address host:port`,
 * binds (trying the next ports when busy), prints `QNTX_PLUGIN_PORT=<port>` once on stdout,
 * and serves until the `Shutdown` RPC, SIGTERM, SIGINT or the death of the host that spawned
 * it (`QNTX_HOST_PID`), which run the shutdown hook and exit 0. A start failure is logged (or
 * handed to `onStartError`) and exits 1 (2 for bad flags).
 *
 * The environment picks the transport (transport.ts, docs/writing-plugins.md "Transports"):
 * `QNTX_TLS_CERT`/`QNTX_TLS_KEY`/`QNTX_TLS_CLIENT_CA` serve (mutual) TLS; a host's
 * `QNTX_PLUGIN_CLIENT_CERT` asks for auto-mTLS, answered by a `QNTX_PLUGIN_CERT=` line before
 * the port line; `QNTX_PLUGIN_SOCKET` asks for a unix socket, answered by a
 * `QNTX_PLUGIN_SOCKET=` line instead of the port line.
 */
export async function serve(plugin: PluginDefinition | PluginDef, options: ServeOptions = {}): Promise<PluginHandle> {
  const def = isPluginDefinition(plugin) ? plugin : definePlugin(plugin);
  const log = def.log;

  let args;
  try {
    args = parsePluginArgs(options.argv ?? process.argv.slice(2));
  } catch (err) {
    log.error(`invalid command line: ${(err as Error).message}`);
    process.exit(2);
  }

  // Signal handlers go in before the port line: a host may send SIGTERM the moment it reads
  // that line, and a signal without a handler kills the process with no exit code of 0.
  let handle: PluginHandle | undefined;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info("stopping on signal", { signal });
    signalled = true;
    // The host escalates to SIGKILL after a bounded wait: do not wait for in-flight calls.
    void handle?.close({ force: true });
  };
  // `once`: a second Ctrl-C falls back to Node's default and kills a stuck plugin.
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);

  // A forgotten `await` in a handler must not kill a plugin that serves other requests.
  process.on("unhandledRejection", (reason) => log.error("unhandled promise rejection", { err: reason }));

  let transport: TransportChoice = {};
  try {
    transport = await transportFromEnv(options.env ?? process.env);
    handle = await startPlugin(def, {
      host: args.host ?? options.host ?? "127.0.0.1",
      port: args.port ?? options.port ?? 0,
      ...(transport.tls ? { tls: transport.tls } : {}),
      ...(transport.socket ? { socket: transport.socket } : {}),
      ...(options.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: options.shutdownTimeoutMs }),
      ...(options.wrapService === undefined ? {} : { wrapService: options.wrapService }),
    });
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    if (options.onStartError) options.onStartError(error);
    else log.error(`could not start plugin: ${error.message}`, { err });
    process.exit(1);
  }

  void handle.closed.then(() => {
    log.info("stopped");
    process.exit(0);
  });
  if (signalled) {
    // Stopped while binding: no port line, just the shutdown hook and exit 0.
    void handle.close({ force: true });
    return handle;
  }

  // A host that dies without stopping us (SIGKILL) must not leave us running as an orphan.
  watchParent((reason) => {
    log.warn("host is gone: stopping", { reason });
    void handle?.close({ force: true });
  });

  // The certificate goes first: the host knows, once the port line comes, whether one came.
  const certLine = transport.announceCert ? formatCertLine(transport.announceCert) + "\n" : "";
  // The one stdout line of the process contract; the host reads the port (or socket) from it.
  process.stdout.write(certLine + (handle.socket ? formatSocketLine(handle.socket) : formatPortLine(handle.port)) + "\n");
  const tls = transport.announceCert ? "auto-mtls" : transport.tls ? (transport.tls.clientCa ? "mtls" : "tls") : undefined;
  log.info("listening", { address: handle.address, version: def.metadata.version, ...(tls ? { tls } : {}), ...options.listeningFields });
  return handle;
}
