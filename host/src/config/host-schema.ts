/**
 * The `[host]` table: its keys, defaults and rules. Validation reports every problem through
 * a {@link Checker} and returns the keys that were given and valid, so one pass finds them all.
 */
import { DEFAULT_LISTEN, DEFAULT_PLUGIN_BASE_PORT, METADATA_READY_TIMEOUT_MS, PORT_LINE_TIMEOUT_MS } from "@qntx/protocol";
import { addressProblem, isTable, typeName, type Checker } from "./checker.js";
import { resolvePath } from "./paths.js";
import { SERVICE_HOST_KEYS } from "./services-schema.js";
import { checkHttpsFiles, checkTlsFiles } from "./tls-schema.js";
import { checkStringList } from "./values.js";
import type { HostSettings } from "./types.js";

/** Defaults of the `[host]` table, except `dataDir` (see `defaultDataDir`). */
export const DEFAULT_HOST_SETTINGS: Readonly<Omit<HostSettings, "dataDir">> = Object.freeze({
  listen: DEFAULT_LISTEN,
  pluginBasePort: DEFAULT_PLUGIN_BASE_PORT,
  requestTimeoutMs: 30_000,
  healthIntervalMs: 10_000,
  portLineTimeoutMs: PORT_LINE_TIMEOUT_MS,
  readyTimeoutMs: METADATA_READY_TIMEOUT_MS,
  initializeTimeoutMs: 10_000,
  shutdownTimeoutMs: 5_000,
  maxBodyBytes: 10 * 1024 * 1024,
  grpcListen: "127.0.0.1:0",
  pulseConcurrency: 4,
  jobMaxAttempts: 3,
  jobTimeoutSecs: 300,
  jobRetryBaseMs: 1000,
  jobRetryMaxMs: 60_000,
  wsPingIntervalMs: 30_000,
  wsPongTimeoutMs: 10_000,
  wsMaxFrameBytes: 1024 * 1024,
  allowedOrigins: [],
  restartBackoffBaseMs: 500,
  restartBackoffMaxMs: 30_000,
  crashBudget: 5,
  crashWindowMs: 180_000,
  healthFailures: 3,
  logMaxBytes: 10 * 1024 * 1024,
  logFiles: 3,
  logRingLines: 1000,
  autoMtls: false,
  jobLeaseMs: 30_000,
  heartbeatIntervalMs: 5_000,
});

/** Integer keys of `[host]`, the field each fills and the bound that applies. */
const HOST_INTEGER_KEYS = {
  plugin_base_port: { field: "pluginBasePort", kind: "port" },
  request_timeout_ms: { field: "requestTimeoutMs", kind: "duration" },
  health_interval_ms: { field: "healthIntervalMs", kind: "duration" },
  port_line_timeout_ms: { field: "portLineTimeoutMs", kind: "duration" },
  ready_timeout_ms: { field: "readyTimeoutMs", kind: "duration" },
  initialize_timeout_ms: { field: "initializeTimeoutMs", kind: "duration" },
  shutdown_timeout_ms: { field: "shutdownTimeoutMs", kind: "duration" },
  max_body_bytes: { field: "maxBodyBytes", kind: "size" },
  pulse_concurrency: { field: "pulseConcurrency", kind: "size" },
  job_max_attempts: { field: "jobMaxAttempts", kind: "size" },
  job_timeout_secs: { field: "jobTimeoutSecs", kind: "size" },
  job_retry_base_ms: { field: "jobRetryBaseMs", kind: "duration" },
  job_retry_max_ms: { field: "jobRetryMaxMs", kind: "duration" },
  ws_ping_interval_ms: { field: "wsPingIntervalMs", kind: "duration" },
  ws_pong_timeout_ms: { field: "wsPongTimeoutMs", kind: "duration" },
  ws_max_frame_bytes: { field: "wsMaxFrameBytes", kind: "size" },
  restart_backoff_base_ms: { field: "restartBackoffBaseMs", kind: "duration" },
  restart_backoff_max_ms: { field: "restartBackoffMaxMs", kind: "duration" },
  crash_budget: { field: "crashBudget", kind: "size" },
  crash_window_ms: { field: "crashWindowMs", kind: "duration" },
  health_failures: { field: "healthFailures", kind: "size" },
  log_max_bytes: { field: "logMaxBytes", kind: "size" },
  log_files: { field: "logFiles", kind: "size" },
  log_ring_lines: { field: "logRingLines", kind: "size" },
  heartbeat_interval_ms: { field: "heartbeatIntervalMs", kind: "duration" },
} as const satisfies Record<string, { field: keyof HostSettings; kind: "port" | "duration" | "size" }>;

/** Every key `[host]` accepts. */
export const HOST_KEYS: readonly string[] = Object.freeze([
  "listen", "grpc_listen", "data_dir", "database", "allowed_origins", "grpc_tls", "tls", "auto_mtls", ...Object.keys(HOST_INTEGER_KEYS), ...SERVICE_HOST_KEYS,
]);

/** HostSettings while it is being built. */
export type MutableHostSettings = { -readonly [K in keyof HostSettings]: HostSettings[K] };

/** Where relative paths are resolved and how `~` expands. */
export interface ResolveContext {
  readonly baseDir: string;
  readonly home: string;
}

/** Validates `[host]`; returns the keys that were given and valid (defaults are applied later). */
export function checkHost(raw: unknown, check: Checker, ctx: ResolveContext): Partial<MutableHostSettings> {
  const out: Partial<MutableHostSettings> = {};
  if (raw === undefined) return out;
  if (!isTable(raw)) {
    check.report(["host"], `must be a table (got ${typeName(raw)})`, "write it as a [host] table");
    return out;
  }
  check.unknownKeys(["host"], raw, HOST_KEYS, "[host]");
  if (raw.listen !== undefined) {
    const listen = check.string(["host", "listen"], raw.listen);
    const bad = listen === undefined ? undefined : addressProblem(listen, true);
    if (bad) check.report(["host", "listen"], bad.problem, bad.hint);
    else if (listen !== undefined) out.listen = listen;
  }
  if (raw.grpc_listen !== undefined) {
    const grpcListen = check.string(["host", "grpc_listen"], raw.grpc_listen);
    const bad = grpcListen === undefined ? undefined : addressProblem(grpcListen, true);
    if (bad) check.report(["host", "grpc_listen"], bad.problem, bad.hint);
    else if (grpcListen !== undefined) out.grpcListen = grpcListen;
  }
  if (raw.allowed_origins !== undefined) {
    out.allowedOrigins = checkStringList(["host", "allowed_origins"], raw.allowed_origins, check, 'write it like allowed_origins = ["https://*.example.com"]');
  }
  if (raw.data_dir !== undefined) {
    const dataDir = check.string(["host", "data_dir"], raw.data_dir);
    if (dataDir !== undefined) out.dataDir = resolvePath(dataDir, ctx.baseDir, ctx.home);
  }
  if (raw.database !== undefined) {
    const url = check.string(["host", "database"], raw.database);
    const bad = url === undefined ? undefined : databaseProblem(url);
    if (bad) check.report(["host", "database"], bad, DATABASE_HINT);
    else if (url !== undefined) {
      out.database = url;
      out.databaseFrom = "[host] database";
    }
  }
  if (raw.grpc_tls !== undefined) {
    const files = checkTlsFiles(["host", "grpc_tls"], raw.grpc_tls, check, ctx);
    if (files) out.grpcTls = files;
  }
  if (raw.tls !== undefined) {
    const files = checkHttpsFiles(["host", "tls"], raw.tls, check, ctx);
    if (files) out.tls = files;
  }
  if (raw.auto_mtls !== undefined) {
    const on = check.boolean(["host", "auto_mtls"], raw.auto_mtls);
    if (on !== undefined) out.autoMtls = on;
  }
  for (const [key, { field, kind }] of Object.entries(HOST_INTEGER_KEYS)) {
    if (raw[key] === undefined) continue;
    const value = check.positiveInteger(["host", key], raw[key], kind);
    if (value !== undefined) out[field] = value;
  }
  return out;
}

/** The hint of a `database` setting that is not a PostgreSQL URL. */
export const DATABASE_HINT = 'write it like database = "postgres://user:password@db.example.com:5432/qntx", or leave it out for the embedded SQLite file';

/** Why `url` cannot be a `[host] database` / `QNTX_DATABASE_URL` value, or undefined when it can. */
export function databaseProblem(url: string): string | undefined {
  if (!/^postgres(ql)?:\/\//i.test(url)) return `must be a postgres:// or postgresql:// URL (got ${JSON.stringify(url.replace(/:[^:@/]*@/, ":***@"))})`;
  try {
    new URL(url);
  } catch {
    return "is not a valid URL (a password with @, / or : must be percent-encoded)";
  }
  return undefined;
}
