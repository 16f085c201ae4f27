/**
 * Starts a whole host from a loaded config: the database (attestations and Pulse share one
 * `qntx.db`), the gRPC services plugins call back (ATSStoreService, QueueService and the
 * service mesh: schedules, files, fetch, search, and the services routed to providers), the
 * registry and plugin manager, Pulse's workers, the HTTP gateway and the health loop. The
 * gateway listens before plugins start, so a plugin that is still loading answers 503
 * rather than connection refused; plugins then start concurrently.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { AttestationStore } from "@qntx/ats";
import { Pulse } from "@qntx/pulse";
import { QntxError } from "@qntx/protocol";
import type { Logger } from "pino";
import { Budget } from "./budget/budget.js";
import { budgetedExecutor, recordJobSpend } from "./budget/job-budget.js";
import { PgUsageStore } from "./budget/pg-usage-store.js";
import { SqliteUsageStore } from "./budget/usage-store.js";
import { loadConfig } from "./config/index.js";
import type { HostConfig } from "./config/types.js";
import { openHostDatabase, startupError, type HostDatabase } from "./database/open.js";
import { dataDirFiles, ensureAdminToken, removeHostFile, writeHostFile } from "./data-dir.js";
import { GatewayDrain } from "./gateway/drain.js";
import { createGateway } from "./gateway/http-server.js";
import { registerHostsRoutes } from "./gateway/hosts-api.js";
import { registerServicesRoutes } from "./gateway/services-api.js";
import { newHostId, openHostDirectory, type HostDirectory } from "./hosts/index.js";
import { createJobExecutor, pluginAvailable } from "./jobs/executor.js";
import { connectPluginJobs } from "./jobs/plugin-jobs.js";
import { PluginLogs } from "./logs/plugin-logs.js";
import { PluginManager } from "./plugin/manager.js";
import { PidFile, sweepOrphans } from "./plugin/pid-file.js";
import { ConfigReloader, type ReloadSummary } from "./plugin/reload.js";
import { Registry } from "./plugin/registry.js";
import { HostWatchdog } from "./plugin/watchdog.js";
import { createAtsService } from "./services/ats-service.js";
import { startServicesServer } from "./services/grpc-server.js";
import { createQueueService } from "./services/queue-service.js";
import { refuseNewerSchema } from "./schema/status.js";
import { createServiceMesh, offeredEndpoints, type ServiceMesh } from "./services/service-mesh.js";
import { GrantChecker } from "./services/grants.js";
import { PluginTokens } from "./services/tokens.js";
import { startLine } from "./start-line.js";
import { HOST_VERSION } from "./version.js";

/** A running host. */
export interface Host {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:8770`. */
  readonly url: string;
  /** `host:port` of the services plugins call (ATS, queue). */
  readonly servicesAddress: string;
  readonly registry: Registry;
  readonly manager: PluginManager;
  readonly store: AttestationStore;
  /** The databases the host opened (SQLite, or the shared PostgreSQL one). */
  readonly database: HostDatabase;
  readonly pulse: Pulse;
  /** Tokens for the host's services; embedders can issue one to an in-process client. */
  readonly tokens: PluginTokens;
  /** The services beyond ATS and the queue: provider routing, stored files. */
  readonly mesh: ServiceMesh;
  /** Pulse's budget over the usage record. */
  readonly budget: Budget;
  /** Resolves once every plugin that starts at boot has started or failed. */
  readonly ready: Promise<void>;
  /**
   * Reads the config again and brings the plugins in line (SIGHUP, `qntx plugin reload`, and
   * edits of the file do this). Rejects with the config's error, changing nothing.
   */
  reload(reason: string): Promise<ReloadSummary>;
  /** Stops Pulse, the plugins, the services and the HTTP server. Idempotent. */
  close(): Promise<void>;
}

/** How often the host deletes attestations whose `expires_at` has passed. */
const EXPIRY_SWEEP_INTERVAL_MS = 60_000;

/** Options of {@link startHost}. */
export interface StartHostOptions {
  /**
   * Reads the config again for a reload, with the same command-line overrides (default: the
   * same file, without overrides; none when the host runs without a file).
   */
  readonly loadConfig?: () => HostConfig;
  /** Reload when the config file changes (default true when there is a file). */
  readonly watchConfig?: boolean;
}

/** Starts a host. Resolves once the HTTP API listens (plugins may still be loading). */
export async function startHost(config: HostConfig, logger: Logger, options: StartHostOptions = {}): Promise<Host> {
  const { host: settings } = config;
  const adminToken = ensureAdminToken(settings.dataDir);
  // Before any part migrates: a database a newer build migrated is refused as a whole.
  await refuseNewerSchema(settings.database ?? join(settings.dataDir, "qntx.db")).catch((err: unknown) => {
    throw settings.database === undefined ? err : startupError(settings.database, settings.databaseFrom ?? "[host] database", err);
  });
  const database = await openHostDatabase(settings, logger);
  const { sqlite: db, store, readStore } = database;

  const registry = new Registry();
  const tokens = new PluginTokens();
  // The usage record on the shared database: a budget counts the spend of every host on it.
  const budget = new Budget(config.budget, database.shared ? await PgUsageStore.open(database.shared.pool, database.shared.url) : new SqliteUsageStore(db));
  const pulse = new Pulse({
    ...database.pulse, leaseMs: settings.jobLeaseMs, executor: budgetedExecutor(createJobExecutor(registry), budget), isAvailable: pluginAvailable(registry), logger: logger.child({ component: "pulse" }),
    concurrency: settings.pulseConcurrency, maxAttempts: settings.jobMaxAttempts, defaultTimeoutSecs: settings.jobTimeoutSecs,
    backoff: { baseMs: settings.jobRetryBaseMs, maxMs: settings.jobRetryMaxMs },
  });
  // The manager (made below: it needs the services' address) owns each plugin's grants.
  let manager: PluginManager | undefined;
  const grants = new GrantChecker((plugin) => manager?.grantsOf(plugin), logger.child({ component: "grants" }));
  const mesh = createServiceMesh({ db, store, pulse, registry, tokens, grants, budget, settings: config.services, dataDir: settings.dataDir, logger });
  const serviceImpls = {
    ats: createAtsService({ store, readStore, tokens, grants, logger: logger.child({ component: "ats" }) }),
    queue: createQueueService({ pulse, tokens, grants, logger: logger.child({ component: "queue" }) }),
    extra: mesh.services,
  };
  const services = await startServicesServer(settings.grpcListen, serviceImpls, settings.grpcTls);
  // With grpc_tls, plugins the host spawns keep a loopback plaintext server (QNTX plugins know
  // no TLS; loopback plus their token is what they had): only dialed plugins get the TLS one.
  const localServices = settings.grpcTls ? await startServicesServer("127.0.0.1:0", serviceImpls) : undefined;
  if (!settings.grpcTls && !isLoopbackListen(settings.grpcListen)) {
    logger.warn({ grpcListen: settings.grpcListen }, "grpc_listen is not loopback and grpc_tls is not set: plugins' calls to the host's services travel in plaintext (see docs/security.md)");
  }
  // Each plugin's output: ring buffer + <data_dir>/logs/<name>.log, kept across restarts.
  const logs = new PluginLogs({
    dir: dataDirFiles(settings.dataDir).logs, maxBytes: settings.logMaxBytes, files: settings.logFiles, ringLines: settings.logRingLines,
    logger: logger.child({ component: "logs" }),
  });
  manager = new PluginManager(config, registry, {
    endpoints: offeredEndpoints((localServices ?? services).address), dialedEndpoints: offeredEndpoints(services.address), tokens, logs,
  }, logger);
  const file = config.file;
  const reloader = new ConfigReloader({
    running: config, manager, logger: logger.child({ component: "config" }),
    load: options.loadConfig ?? (() => {
      if (file === undefined) throw new QntxError("CONFIG_INVALID", "the host runs without a config file: there is nothing to reload", { hint: "start it with --config FILE, or put an am.plugins.toml where it starts" });
      return loadConfig({ configPath: file });
    }),
  });
  const detachJobs = connectPluginJobs(registry, pulse, store, logger.child({ component: "pulse" }));
  const detachSpend = recordJobSpend(pulse, budget, logger.child({ component: "budget" }));
  registry.on("plugin:state", ({ name, state, previous, reason }) => logger.debug({ plugin: name, state, previous, reason }, "plugin state"));
  const recovered = await pulse.start();
  if (recovered.length) logger.warn({ jobs: recovered.length }, "re-queued jobs left running by a previous host");

  const startedAt = new Date();
  const hostId = newHostId();
  let url = "";
  const drain = new GatewayDrain();
  const app = createGateway({
    drain,
    registry, manager, store, pulse, logs, adminToken, adminTokenFile: dataDirFiles(settings.dataDir).adminToken, logger,
    requestTimeoutMs: settings.requestTimeoutMs, maxBodyBytes: settings.maxBodyBytes,
    websocket: { pingIntervalMs: settings.wsPingIntervalMs, pongTimeoutMs: settings.wsPongTimeoutMs, maxFrameBytes: settings.wsMaxFrameBytes, allowedOrigins: settings.allowedOrigins },
    reload: () => reloader.reload("POST /api/plugins/reload"),
    hostInfo: () => ({ id: hostId, version: HOST_VERSION, pid: process.pid, url, services: services.address, startedAt: startedAt.toISOString(), config: config.file ?? null, dataDir: settings.dataDir, database: database.health() }),
    ...(settings.tls ? { https: { cert: readFileSync(settings.tls.cert), key: readFileSync(settings.tls.key) } } : {}),
  });
  // The directory opens once the address is known (after listen); the route waits for it.
  let directory: HostDirectory | undefined;
  let directoryOpened: (opened: HostDirectory) => void = () => undefined;
  const openedDirectory = new Promise<HostDirectory>((resolve) => (directoryOpened = resolve));
  registerHostsRoutes(app, () => openedDirectory);
  registerServicesRoutes(app, { router: mesh.router, files: mesh.files, budget, pulse, servicesAddress: () => services.address, adminToken, adminTokenFile: dataDirFiles(settings.dataDir).adminToken });
  const { hostname, port } = splitListen(settings.listen);
  await app.listen({ host: hostname, port });
  const address = app.server.address();
  const boundPort = typeof address === "object" && address ? address.port : port;
  url = `${settings.tls ? "https" : "http"}://${hostname.includes(":") ? `[${hostname}]` : hostname}:${boundPort}`;
  // With HTTPS, host.json names the certificate the CLI pins (tls.ca, else the certificate itself).
  const tlsCa = settings.tls ? (settings.tls.ca ?? settings.tls.cert) : undefined;
  writeHostFile(settings.dataDir, { pid: process.pid, url, version: HOST_VERSION, startedAt: startedAt.toISOString(), ...(tlsCa ? { tlsCa } : {}) });
  // Plugins a killed host left running go before ours start (same process only, never a reused pid).
  const swept = await sweepOrphans(settings.dataDir);
  if (swept.killed.length) logger.warn({ plugins: swept.killed.map((r) => `${r.name} (pid ${r.pid})`) }, "stopped plugin processes left by a previous host");
  if (swept.unverified.length) {
    logger.warn({ plugins: swept.unverified.map((r) => `${r.name} (pid ${r.pid})`) }, "left running: plugin processes of a previous host that cannot be proven ours without /proc; stop them by hand if they are");
  }
  const pidFile = new PidFile(join(settings.dataDir, `plugins-${boundPort}.pid`), (err) => logger.warn({ err: String(err) }, "could not write the plugin pid file"));
  manager.recordProcessesIn(pidFile);
  // Stops the plugins recorded there if this host dies without stopping them.
  const watchdog = HostWatchdog.start({ pidFile: pidFile.path, logger: logger.child({ component: "watchdog" }) });
  directory = await openHostDirectory(database.shared, () => ({
    id: hostId, address: url, version: HOST_VERSION, plugins: registry.list().filter((p) => p.state === "running").map((p) => p.name),
  }), { heartbeatMs: settings.heartbeatIntervalMs, onError: (err) => logger.warn({ err: String(err) }, "host directory heartbeat failed; retrying") });
  directoryOpened(directory);
  logger.info({ url, services: services.address, config: config.file ?? "(none: defaults)", dataDir: settings.dataDir, plugins: config.plugins.length }, `qntx host ${HOST_VERSION} listening on ${url}`);

  if (file !== undefined && options.watchConfig !== false) reloader.watch(file);
  const ready = manager.startAll().then(() => {
    const plugins = registry.list();
    const running = plugins.filter((p) => p.state === "running").map((p) => p.name);
    const tokenFile = dataDirFiles(settings.dataDir).adminToken;
    logger.info({ running, failed: plugins.filter((p) => p.state === "failed").map((p) => p.name), dashboard: `${url}/` }, startLine({ url, tokenFile, running: running.length, total: plugins.length }));
  });

  // Health polling complements the exit event: it catches plugins that hang without exiting.
  const healthTimeoutMs = Math.min(5000, settings.healthIntervalMs);
  const healthTimer = setInterval(() => void manager.checkHealth(healthTimeoutMs), settings.healthIntervalMs);
  healthTimer.unref();
  // Attestations past their expires_at are already left out of every answer; this deletes them.
  const sweepTimer = setInterval(() => {
    store.sweepExpired().then(
      (swept) => swept > 0 && logger.debug({ swept }, "expired attestations deleted"),
      (err: unknown) => logger.warn({ err: String(err) }, "could not delete expired attestations"),
    );
  }, EXPIRY_SWEEP_INTERVAL_MS);
  sweepTimer.unref();
  void ready.then(() => manager.checkHealth(healthTimeoutMs));

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(healthTimer);
      clearInterval(sweepTimer);
      await ready.catch(() => undefined);
      await reloader.close();
      // 1. Take no new work: new connections are refused, requests on open ones and new
      //    WebSockets get 503, followers' streams end, Pulse claims no more jobs.
      drain.begin();
      app.server.close();
      // 2. Let the work in flight finish, within shutdown_timeout_ms. Plugins and the services
      //    they call back still run, so a request or job under way is answered, not cut.
      const budget = settings.shutdownTimeoutMs;
      const jobsDrained = pulse.stop(budget);
      const outOfTime = new AbortController();
      const finished = await Promise.race([
        Promise.all([drain.idle(), jobsDrained]).then(() => true),
        sleep(budget, false, { signal: outOfTime.signal }).catch(() => false),
      ]);
      outOfTime.abort();
      if (finished) logger.info("in-flight work finished");
      else logger.warn({ ...drain.pending(), budgetMs: budget }, "in-flight work cut at shutdown_timeout_ms");
      // 3. What is still open after that is cut: WebSockets close with 1001, HTTP connections
      //    end; jobs still running go back to the queue (not counted as an attempt).
      drain.force();
      app.server.closeAllConnections();
      await jobsDrained;
      await app.close();
      // 4. Only now the plugins, dependents first.
      await manager.stopAll();
      await pidFile.delete();
      watchdog?.stop();
      // Flushes the plugins' log files (their last lines came while they stopped).
      await logs.close();
      detachJobs();
      detachSpend();
      await directory?.close();
      mesh.close();
      await services.close();
      await localServices?.close();
      await database.close();
      removeHostFile(settings.dataDir, process.pid);
      logger.info("qntx host stopped");
    })();
    return closing;
  };
  const reload = (reason: string): Promise<ReloadSummary> => reloader.reload(reason);
  return { url, servicesAddress: services.address, registry, manager, store, database, pulse, tokens, mesh, budget, ready, reload, close };
}

/** Whether a `host:port` listens on loopback only. */
function isLoopbackListen(listen: string): boolean {
  const host = splitListen(listen).hostname;
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

function splitListen(listen: string): { hostname: string; port: number } {
  const at = listen.lastIndexOf(":");
  const hostname = listen.slice(0, at).replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
  return { hostname, port: Number(listen.slice(at + 1)) };
}
