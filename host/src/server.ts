/**
 * Starts a whole host from a loaded config: the registry, the plugin manager, the HTTP
 * gateway and the health loop. The gateway listens first, so plugins that are still
 * loading answer 503 instead of connection refused; then plugins start concurrently.
 */
import type { Logger } from "pino";
import type { HostConfig } from "./config/types.js";
import { dataDirFiles, ensureAdminToken, removeHostFile, writeHostFile } from "./data-dir.js";
import { createGateway } from "./gateway/http-server.js";
import { PluginManager } from "./plugin/manager.js";
import { Registry } from "./plugin/registry.js";
import { HOST_VERSION } from "./version.js";

/** A running host. */
export interface Host {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:8770`. */
  readonly url: string;
  readonly registry: Registry;
  readonly manager: PluginManager;
  /** Resolves once every plugin that starts at boot has started or failed. */
  readonly ready: Promise<void>;
  /** Stops plugins, then the HTTP server. Idempotent. */
  close(): Promise<void>;
}

/** Starts a host. Resolves once the HTTP API listens (plugins may still be loading). */
export async function startHost(config: HostConfig, logger: Logger): Promise<Host> {
  const { host: settings } = config;
  const adminToken = ensureAdminToken(settings.dataDir);
  const registry = new Registry(HOST_VERSION);
  // The host's own services (ATS, Pulse) are offered from a later release; until then every endpoint is "not offered".
  const manager = new PluginManager(config, registry, { endpoints: emptyEndpoints() }, logger);
  registry.on("state", (name: string, state: string, previous: string) => logger.debug({ plugin: name, state, previous }, "plugin state"));

  const startedAt = new Date();
  let url = "";
  const app = createGateway({
    registry, manager, adminToken, adminTokenFile: dataDirFiles(settings.dataDir).adminToken, logger,
    requestTimeoutMs: settings.requestTimeoutMs, maxBodyBytes: settings.maxBodyBytes,
    hostInfo: () => ({ version: HOST_VERSION, pid: process.pid, url, startedAt: startedAt.toISOString(), config: config.file ?? null, dataDir: settings.dataDir }),
  });
  const { hostname, port } = splitListen(settings.listen);
  await app.listen({ host: hostname, port });
  const address = app.server.address();
  const boundPort = typeof address === "object" && address ? address.port : port;
  url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${boundPort}`;
  writeHostFile(settings.dataDir, { pid: process.pid, url, version: HOST_VERSION, startedAt: startedAt.toISOString() });
  logger.info({ url, config: config.file ?? "(none: defaults)", dataDir: settings.dataDir, plugins: config.plugins.length }, `qntx host ${HOST_VERSION} listening on ${url}`);

  const ready = manager.startAll().then(() => {
    const plugins = registry.list();
    const running = plugins.filter((p) => p.state === "running").map((p) => p.name);
    logger.info({ running, failed: plugins.filter((p) => p.state === "failed").map((p) => p.name) }, `${running.length} of ${plugins.length} plugins running`);
  });

  const healthTimer = setInterval(() => void registry.healthCheckAll(Math.min(5000, settings.healthIntervalMs)), settings.healthIntervalMs);
  healthTimer.unref();
  void ready.then(() => registry.healthCheckAll(2000));

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(healthTimer);
      await ready.catch(() => undefined);
      await manager.stopAll();
      await app.close();
      removeHostFile(settings.dataDir, process.pid);
      logger.info("qntx host stopped");
    })();
    return closing;
  };
  return { url, registry, manager, ready, close };
}

function splitListen(listen: string): { hostname: string; port: number } {
  const at = listen.lastIndexOf(":");
  const hostname = listen.slice(0, at).replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
  return { hostname, port: Number(listen.slice(at + 1)) };
}

function emptyEndpoints() {
  return {
    atsStoreEndpoint: "", queueEndpoint: "", scheduleEndpoint: "", fileServiceEndpoint: "", llmEndpoint: "",
    embeddingEndpoint: "", vectorSearchEndpoint: "", groundEndpoint: "", searchEndpoint: "", fetchEndpoint: "",
  };
}
