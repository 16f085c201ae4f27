/**
 * The schema of `am.plugins.toml`: the `[host]` table and the `[plugins.<name>]` tables,
 * their defaults and rules. Validation reports every problem through a {@link Checker}
 * and still returns a value built from whatever was valid, so one pass finds them all.
 */
import { DEFAULT_LISTEN, DEFAULT_PLUGIN_BASE_PORT, METADATA_READY_TIMEOUT_MS, PORT_LINE_TIMEOUT_MS } from "@qntx/protocol";
import { addressProblem, isTable, typeName, type Checker, type RawTable } from "./checker.js";
import { resolvePath } from "./paths.js";
import semver from "semver";
import type { Dependency, HostSettings, PluginEntry, PluginSource } from "./types.js";

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
});

/**
 * Names a plugin cannot take: they are path segments of the host's own routes
 * (`/api/plugins`, `/api/pulse`, `/ws`, …), so a plugin under them would be shadowed.
 */
export const RESERVED_PLUGIN_NAMES: readonly string[] = Object.freeze([
  "plugins",
  "pulse",
  "commands",
  "attestations",
  "ws",
  "health",
  "admin",
  "static",
  "host",
]);

/** What a plugin name may contain: it becomes a URL segment and a log file name. */
export const PLUGIN_NAME_PATTERN = /^[A-Za-z0-9_-]+$/;

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
} as const satisfies Record<string, { field: keyof HostSettings; kind: "port" | "duration" | "size" }>;

/** Every key `[host]` accepts. */
export const HOST_KEYS: readonly string[] = Object.freeze(["listen", "grpc_listen", "data_dir", "allowed_origins", ...Object.keys(HOST_INTEGER_KEYS)]);

/** Every key a `[plugins.<name>]` table accepts. */
export const PLUGIN_KEYS: readonly string[] = Object.freeze([
  "enabled",
  "binary",
  "address",
  "builtin",
  "auto_start",
  "args",
  "env",
  "cwd",
  "config",
  "depends_on",
]);

const SOURCE_KEYS = ["binary", "address", "builtin"] as const;
const BINARY_ONLY_KEYS = ["auto_start", "args", "env", "cwd"] as const;

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
    const origins = checkArgs(["host", "allowed_origins"], raw.allowed_origins, check, 'write it like allowed_origins = ["https://*.example.com"]');
    out.allowedOrigins = origins;
  }
  if (raw.data_dir !== undefined) {
    const dataDir = check.string(["host", "data_dir"], raw.data_dir);
    if (dataDir !== undefined) out.dataDir = resolvePath(dataDir, ctx.baseDir, ctx.home);
  }
  for (const [key, { field, kind }] of Object.entries(HOST_INTEGER_KEYS)) {
    if (raw[key] === undefined) continue;
    const value = check.positiveInteger(["host", key], raw[key], kind);
    if (value !== undefined) out[field] = value;
  }
  return out;
}

/** Validates the `plugins` table and builds one entry per plugin, in file order. */
export function checkPlugins(raw: unknown, check: Checker, ctx: ResolveContext): PluginEntry[] {
  if (raw === undefined) return [];
  if (!isTable(raw)) {
    check.report(["plugins"], `must be a table of plugin tables (got ${typeName(raw)})`, "write one [plugins.<name>] table per plugin");
    return [];
  }
  const entries: PluginEntry[] = [];
  for (const [name, table] of Object.entries(raw)) {
    const entry = checkPlugin(name, table, check, ctx);
    if (entry) entries.push(entry);
  }
  return entries;
}

function checkName(name: string, check: Checker): void {
  const path = ["plugins", name];
  if (!PLUGIN_NAME_PATTERN.test(name)) {
    check.report(path, "is not a valid plugin name: use only letters, digits, \"_\" and \"-\"", "the name becomes the URL segment /api/<name>");
  } else if (RESERVED_PLUGIN_NAMES.includes(name.toLowerCase())) {
    check.report(
      path,
      `uses a reserved name: "${name}" is one of the host's own routes (${RESERVED_PLUGIN_NAMES.join(", ")})`,
      `rename the table, for example [plugins.${name}-plugin], and the name the plugin reports`,
    );
  }
}

function checkPlugin(name: string, table: unknown, check: Checker, ctx: ResolveContext): PluginEntry | undefined {
  const path = ["plugins", name];
  checkName(name, check);
  if (!isTable(table)) {
    check.report(path, `must be a table (got ${typeName(table)})`, `write it as [plugins.${name}] with binary, address or builtin`);
    return undefined;
  }
  check.unknownKeys(path, table, PLUGIN_KEYS, `[plugins.${name}]`);
  const key = (k: string): string[] => [...path, k];

  const enabled = table.enabled === undefined ? true : (check.boolean(key("enabled"), table.enabled) ?? true);
  const source = checkSource(name, table, check, ctx);
  let config: Record<string, string> = {};
  if (table.config !== undefined) {
    if (isTable(table.config)) config = flattenConfig(table.config);
    else check.report(key("config"), `must be a table (got ${typeName(table.config)})`, `write it as config = { key = "value" }`);
  }
  const dependsOn = table.depends_on === undefined ? [] : checkDependencies(key("depends_on"), table.depends_on, check, name);
  if (!source) return undefined;
  return { name, enabled, source, config, dependsOn, line: check.lineOf(path) };
}

/** Checks that exactly one source is given, and the keys that go with it. */
function checkSource(name: string, table: RawTable, check: Checker, ctx: ResolveContext): PluginSource | undefined {
  const path = ["plugins", name];
  const key = (k: string): string[] => [...path, k];
  const given = SOURCE_KEYS.filter((k) => table[k] !== undefined);
  if (given.length !== 1) {
    check.report(
      path,
      given.length === 0
        ? "needs one of binary, address or builtin (none given)"
        : `must have exactly one of binary, address or builtin (got ${given.join(" and ")})`,
      "binary spawns a program, address dials a running plugin, builtin uses one compiled into the host",
    );
    return undefined;
  }
  const kind = given[0]!;
  if (kind !== "binary") {
    for (const k of BINARY_ONLY_KEYS) {
      if (table[k] !== undefined) check.report(key(k), `only applies to plugins started from a binary (this one uses ${kind})`);
    }
  }
  if (kind === "address") {
    const address = check.string(key("address"), table.address);
    const bad = address === undefined ? undefined : addressProblem(address, false);
    if (bad) check.report(key("address"), bad.problem, bad.hint);
    return address === undefined || bad ? undefined : { kind, address };
  }
  if (kind === "builtin") {
    const builtin = check.string(key("builtin"), table.builtin);
    return builtin === undefined ? undefined : { kind, builtin };
  }
  const binary = check.string(key("binary"), table.binary);
  const autoStart = table.auto_start === undefined ? true : (check.boolean(key("auto_start"), table.auto_start) ?? true);
  const args = table.args === undefined ? [] : checkArgs(key("args"), table.args, check);
  const env = table.env === undefined ? {} : checkEnv(key("env"), table.env, check);
  let cwd: string | undefined;
  if (table.cwd !== undefined) {
    const raw = check.string(key("cwd"), table.cwd);
    if (raw !== undefined) cwd = resolvePath(raw, ctx.baseDir, ctx.home);
  }
  return binary === undefined ? undefined : { kind, binary, autoStart, args, env, cwd };
}

function checkArgs(path: readonly string[], value: unknown, check: Checker, example = 'write it like args = ["--verbose"]'): string[] {
  if (!Array.isArray(value)) {
    check.report(path, `must be an array of strings (got ${typeName(value)})`, example);
    return [];
  }
  const badIndex = value.findIndex((item) => typeof item !== "string");
  if (badIndex >= 0) {
    check.report(path, `must be an array of strings (item ${badIndex} is a ${typeName(value[badIndex])})`, "quote every argument");
    return [];
  }
  return value as string[];
}

/** `depends_on = ["store", "auth@^1.2"]` → dependencies; the range must be valid semver. */
function checkDependencies(path: readonly string[], value: unknown, check: Checker, self: string): Dependency[] {
  const items = checkArgs(path, value, check, 'write it like depends_on = ["store", "auth@^1.2"]');
  const out: Dependency[] = [];
  for (const item of items) {
    const at = item.indexOf("@");
    const name = (at === -1 ? item : item.slice(0, at)).trim();
    const range = at === -1 ? "" : item.slice(at + 1).trim();
    if (!PLUGIN_NAME_PATTERN.test(name)) {
      check.report(path, `has "${item}", which does not start with a plugin name`, 'write "name" or "name@<semver range>"');
    } else if (name === self) {
      check.report(path, `lists the plugin itself ("${item}")`);
    } else if (range !== "" && semver.validRange(range) === null) {
      check.report(path, `has "${item}", whose version range "${range}" is not a semver range`, 'for example "auth@^1.2" or "auth@>=2.0.0"');
    } else {
      out.push({ name, range });
    }
  }
  return out;
}

function checkEnv(path: readonly string[], value: unknown, check: Checker): Record<string, string> {
  if (!isTable(value)) {
    check.report(path, `must be a table of strings (got ${typeName(value)})`, 'write it like env = { LOG_LEVEL = "debug" }');
    return {};
  }
  const env: Record<string, string> = {};
  for (const [name, item] of Object.entries(value)) {
    if (name === "" || name.includes("=") || name.includes("\0")) {
      check.report([...path, name], "is not a valid environment variable name");
    } else if (typeof item !== "string") {
      check.report([...path, name], `must be a string (got ${typeName(item)})`, "quote environment values");
    } else {
      env[name] = item;
    }
  }
  return env;
}

/**
 * Flattens a plugin's `config` table to the strings `InitializeRequest.config` carries:
 * strings as they are, numbers and booleans with `String`, dates as ISO text, arrays and
 * tables as JSON (dates inside them as their TOML text).
 */
export function flattenConfig(table: RawTable): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(table)) out[key] = flattenValue(value);
  return out;
}

function flattenValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}
