/**
 * The keys of the host's own services and of provider routing (in `[host]`) and the Pulse
 * budget (the `[pulse]` table, as in QNTX's am.toml): their defaults and rules. Kept apart from
 * `host-schema.ts` because they fill their own parts of the config (`services`, `budget`), not
 * `HostSettings`. Read at start only, like every `[host]` key.
 */
import { isTable, typeName, type Checker, type RawTable } from "./checker.js";
import { checkStringList } from "./values.js";
import { PROVIDER_ROLES, type BudgetSettings, type ProviderRole, type ServiceSettings } from "./types.js";

/**
 * Largest file or fetched body: a gRPC answer carries it whole (base64 for a file) and the
 * channels take 16 MiB messages, so 12 MiB (16 MiB in base64) is the most that can travel.
 */
export const MAX_SERVICE_PAYLOAD_BYTES = 12 * 1024 * 1024;

/** Defaults of the service keys. */
export const DEFAULT_SERVICE_SETTINGS: Readonly<ServiceSettings> = Object.freeze({
  fetchAllowedHosts: [],
  fetchTimeoutMs: 30_000,
  fetchMaxBytes: 10 * 1024 * 1024,
  fileMaxBytes: 8 * 1024 * 1024,
  providers: {},
});

/** Defaults of `[pulse]`: no budget. */
export const DEFAULT_BUDGET_SETTINGS: Readonly<BudgetSettings> = Object.freeze({ overBudget: "wait" });

/** Integer service keys of `[host]`, the field each fills and its kind. */
const SERVICE_INTEGER_KEYS = {
  fetch_timeout_ms: { field: "fetchTimeoutMs", kind: "duration" },
  fetch_max_bytes: { field: "fetchMaxBytes", kind: "size" },
  file_max_bytes: { field: "fileMaxBytes", kind: "size" },
} as const satisfies Record<string, { field: keyof ServiceSettings; kind: "duration" | "size" }>;

/** The service keys `[host]` accepts (HOST_KEYS includes them). */
export const SERVICE_HOST_KEYS: readonly string[] = Object.freeze(["fetch_allowed_hosts", "providers", ...Object.keys(SERVICE_INTEGER_KEYS)]);

/** The budget keys, in `[pulse]` of either file, and the field each fills. */
const BUDGET_LIMIT_KEYS = {
  daily_budget_usd: "dailyUsd",
  weekly_budget_usd: "weeklyUsd",
  monthly_budget_usd: "monthlyUsd",
} as const satisfies Record<string, keyof BudgetSettings>;

/** Every key of `[pulse]` in am.plugins.toml (in am.toml, QNTX's other `[pulse]` keys are ignored). */
export const PULSE_KEYS: readonly string[] = Object.freeze([...Object.keys(BUDGET_LIMIT_KEYS), "over_budget", "lease_seconds"]);

/** `[pulse] lease_seconds` (not in QNTX's am.toml): the job lease, in ms; undefined when unset or wrong (reported). */
export function checkPulseLease(raw: unknown, check: Checker): number | undefined {
  if (!isTable(raw) || raw.lease_seconds === undefined) return undefined;
  const seconds = check.positiveInteger(["pulse", "lease_seconds"], raw.lease_seconds, "size");
  return seconds === undefined ? undefined : seconds * 1000;
}

/** Validates the service keys of `[host]` (unknown keys are reported by `checkHost`). */
export function checkServiceKeys(raw: unknown, check: Checker): Partial<ServiceSettings> {
  const out: { -readonly [K in keyof ServiceSettings]?: ServiceSettings[K] } = {};
  if (!isTable(raw)) return out;
  if (raw.fetch_allowed_hosts !== undefined) {
    const hosts = checkStringList(["host", "fetch_allowed_hosts"], raw.fetch_allowed_hosts, check, 'write it like fetch_allowed_hosts = ["api.example.com", "*.example.org", "127.0.0.1:8080"]');
    const bad = hosts.find((h) => !/^[A-Za-z0-9*.:[\]-]+$/.test(h));
    if (bad !== undefined) check.report(["host", "fetch_allowed_hosts"], `has ${JSON.stringify(bad)}, which is not a host name, an address or a pattern with *`, "write host names only, without scheme or path");
    else out.fetchAllowedHosts = hosts.map((h) => h.toLowerCase());
  }
  for (const [key, { field, kind }] of Object.entries(SERVICE_INTEGER_KEYS)) {
    if (raw[key] === undefined) continue;
    const value = check.positiveInteger(["host", key], raw[key], kind);
    if (value === undefined) continue;
    if (kind === "size" && value > MAX_SERVICE_PAYLOAD_BYTES) {
      check.report(["host", key], `must be at most ${MAX_SERVICE_PAYLOAD_BYTES} bytes (got ${value})`, "one gRPC answer carries it whole, and messages are at most 16 MiB");
      continue;
    }
    out[field] = value;
  }
  if (raw.providers !== undefined) out.providers = checkProviders(raw.providers, check);
  return out;
}

/** `providers = { llm = "name", … }`: which plugin serves each routed service when several could. */
function checkProviders(value: unknown, check: Checker): Partial<Record<ProviderRole, string>> {
  const path = ["host", "providers"];
  if (!isTable(value)) {
    check.report(path, `must be a table (got ${typeName(value)})`, 'write it like providers = { llm = "my-llm-plugin" }');
    return {};
  }
  check.unknownKeys(path, value, PROVIDER_ROLES, "[host] providers");
  const out: Partial<Record<ProviderRole, string>> = {};
  for (const role of PROVIDER_ROLES) {
    if (value[role] === undefined) continue;
    const name = check.string([...path, role], value[role]);
    if (name !== undefined) out[role] = name;
  }
  return out;
}

/** Validates `[pulse]` of am.plugins.toml (`qntx` false) or the budget keys of am.toml's `[pulse]`. */
export function checkPulse(raw: unknown, check: Checker, qntx: boolean): Partial<BudgetSettings> {
  const out: { -readonly [K in keyof BudgetSettings]?: BudgetSettings[K] } = {};
  if (raw === undefined) return out;
  if (!isTable(raw)) {
    check.report(["pulse"], `must be a table (got ${typeName(raw)})`, "write it as a [pulse] table");
    return out;
  }
  if (!qntx) check.unknownKeys(["pulse"], raw, PULSE_KEYS, "[pulse]");
  for (const [key, field] of Object.entries(BUDGET_LIMIT_KEYS)) {
    const usd = dollars(["pulse", key], (raw as RawTable)[key], check);
    if (usd !== undefined) out[field] = usd;
  }
  if (raw.over_budget !== undefined) {
    const action = check.string(["pulse", "over_budget"], raw.over_budget);
    if (action === "wait" || action === "fail") out.overBudget = action;
    else if (action !== undefined) check.report(["pulse", "over_budget"], `must be "wait" or "fail" (got ${JSON.stringify(action)})`, 'a job over budget waits for the window to free up ("wait") or fails at once ("fail")');
  }
  return out;
}

/** A limit in US dollars: a finite number >= 0 (0 allows no spending), or undefined after reporting. */
function dollars(path: readonly string[], value: unknown, check: Checker): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "bigint" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
    check.report(path, `must be a number of US dollars >= 0 (got ${typeof n === "number" ? n : typeName(value)})`, "leave it out for no limit");
    return undefined;
  }
  return n;
}
