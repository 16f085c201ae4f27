/**
 * One plugin of am.plugins.toml — a `[plugins.<name>]` table or a `[[plugins]]` entry — checked
 * and turned into a {@link PluginEntry}: its source (exactly one of binary, address, builtin),
 * the keys that go with it, its config and its dependencies.
 */
import semver from "semver";
import { addressProblem, isTable, typeName, type Checker, type RawTable } from "./checker.js";
import type { ResolveContext } from "./host-schema.js";
import { resolvePath } from "./paths.js";
import { checkSha256, checkTlsFiles } from "./tls-schema.js";
import { checkEnv, checkStringList, flattenConfig } from "./values.js";
import { GRANTABLE_SERVICES, type Dependency, type PluginEntry, type PluginGrants, type PluginSource } from "./types.js";

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
  "files",
  "dashboard",
]);

/** What a plugin name may contain: it becomes a URL segment and a log file name. */
export const PLUGIN_NAME_PATTERN = /^[A-Za-z0-9_-]+$/;

/** Every key a `[plugins.<name>]` table accepts (a `[[plugins]]` entry also takes `name`). */
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
  "enqueue",
  "attest",
  "services",
  "sha256",
  "transport",
  "auto_mtls",
  "tls",
  "server_name",
]);

const SOURCE_KEYS = ["binary", "address", "builtin"] as const;
const BINARY_ONLY_KEYS = ["auto_start", "args", "env", "cwd", "sha256", "transport", "auto_mtls"] as const;
const ADDRESS_ONLY_KEYS = ["tls", "server_name"] as const;

/** Where a plugin's keys are and how to name its table in messages. */
export interface PluginTablePlace {
  /** The plugin's name (already checked by the caller). */
  readonly name: string;
  /** Key path of the table: `["plugins", name]`, or `["plugins", "[i]"]` for a `[[plugins]]` entry. */
  readonly path: readonly string[];
  /** The table as the user wrote it, for messages: `[plugins.hello]` or `[[plugins]] entry "hello"`. */
  readonly header: string;
  /** Keys accepted besides {@link PLUGIN_KEYS} (`name` in a `[[plugins]]` entry). */
  readonly extraKeys?: readonly string[];
}

/** Why `name` cannot be a plugin's (not a URL segment, or reserved), or undefined when it can. */
export function pluginNameProblem(name: string): { problem: string; hint: string } | undefined {
  if (!PLUGIN_NAME_PATTERN.test(name)) {
    return { problem: `is not a valid plugin name: use only letters, digits, "_" and "-"`, hint: "the name becomes the URL segment /api/<name>" };
  }
  if (RESERVED_PLUGIN_NAMES.includes(name.toLowerCase())) {
    return {
      problem: `uses a reserved name: "${name}" is one of the host's own routes (${RESERVED_PLUGIN_NAMES.join(", ")})`,
      hint: `rename the plugin, for example "${name}-plugin", and the name the plugin reports`,
    };
  }
  return undefined;
}

/**
 * Reports a name that cannot be a plugin's at `path`.
 * @returns true when the name is usable
 */
export function checkPluginName(name: string, path: readonly string[], check: Checker): boolean {
  const bad = pluginNameProblem(name);
  if (bad) check.report(path, bad.problem, bad.hint);
  return bad === undefined;
}

/** Checks one plugin table; undefined when it cannot become an entry (the problems are reported). */
export function checkPluginTable(place: PluginTablePlace, table: unknown, check: Checker, ctx: ResolveContext): PluginEntry | undefined {
  const { name, path } = place;
  if (!isTable(table)) {
    check.report(path, `must be a table (got ${typeName(table)})`, `write it as [plugins.${name}] with binary, address or builtin`);
    return undefined;
  }
  check.unknownKeys(path, table, [...(place.extraKeys ?? []), ...PLUGIN_KEYS], place.header);
  const key = (k: string): string[] => [...path, k];

  const enabled = table.enabled === undefined ? true : (check.boolean(key("enabled"), table.enabled) ?? true);
  const source = checkSource(path, table, check, ctx);
  let config: Record<string, string> = {};
  if (table.config !== undefined) {
    if (isTable(table.config)) config = flattenConfig(table.config);
    else check.report(key("config"), `must be a table (got ${typeName(table.config)})`, `write it as config = { key = "value" }`);
  }
  const dependsOn = table.depends_on === undefined ? [] : checkDependencies(key("depends_on"), table.depends_on, check, name);
  const grants = checkGrants(path, table, check);
  if (!source) return undefined;
  return { name, enabled, source, config, dependsOn, ...(grants ? { grants } : {}), line: check.lineOf(path) };
}

/** `enqueue`, `attest` and `services`: lists of patterns (services: known names); undefined when none is given. */
function checkGrants(path: readonly string[], table: RawTable, check: Checker): PluginGrants | undefined {
  if (table.enqueue === undefined && table.attest === undefined && table.services === undefined) return undefined;
  const list = (k: "enqueue" | "attest" | "services", example: string): string[] | undefined =>
    table[k] === undefined ? undefined : checkStringList([...path, k], table[k], check, example);
  const services = list("services", `write it like services = ["ats"] (known: ${GRANTABLE_SERVICES.join(", ")})`);
  for (const service of services ?? []) {
    if (!(GRANTABLE_SERVICES as readonly string[]).includes(service)) {
      check.report([...path, "services"], `names an unknown service "${service}"`, `known services: ${GRANTABLE_SERVICES.join(", ")}`);
    }
  }
  return {
    enqueue: list("enqueue", 'write it like enqueue = ["analyzer/*"]'),
    attest: list("attest", 'write it like attest = ["committed", "review.*"]'),
    services,
  };
}

/** Checks that exactly one source is given, and the keys that go with it. */
function checkSource(path: readonly string[], table: RawTable, check: Checker, ctx: ResolveContext): PluginSource | undefined {
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
  if (kind !== "address") {
    for (const k of ADDRESS_ONLY_KEYS) {
      if (table[k] !== undefined) check.report(key(k), `only applies to plugins dialed at an address (this one uses ${kind})`);
    }
  }
  if (kind === "address") return checkAddressSource(path, table, check, ctx);
  if (kind === "builtin") {
    const builtin = check.string(key("builtin"), table.builtin);
    return builtin === undefined ? undefined : { kind, builtin };
  }
  const binary = check.string(key("binary"), table.binary);
  const autoStart = table.auto_start === undefined ? true : (check.boolean(key("auto_start"), table.auto_start) ?? true);
  const args = table.args === undefined ? [] : checkStringList(key("args"), table.args, check);
  const env = table.env === undefined ? {} : checkEnv(key("env"), table.env, check);
  let cwd: string | undefined;
  if (table.cwd !== undefined) {
    const raw = check.string(key("cwd"), table.cwd);
    if (raw !== undefined) cwd = resolvePath(raw, ctx.baseDir, ctx.home);
  }
  const sha256 = table.sha256 === undefined ? undefined : checkSha256(key("sha256"), table.sha256, check);
  let transport: "tcp" | "unix" | undefined;
  if (table.transport !== undefined) {
    const raw = check.string(key("transport"), table.transport);
    if (raw === "tcp" || raw === "unix") transport = raw;
    else if (raw !== undefined) check.report(key("transport"), `must be "tcp" or "unix" (got ${JSON.stringify(raw)})`, 'transport = "unix" asks the plugin to listen on a socket under <data_dir>/sockets');
  }
  const autoMtls = table.auto_mtls === undefined ? undefined : check.boolean(key("auto_mtls"), table.auto_mtls);
  if (binary === undefined) return undefined;
  return {
    kind, binary, search: undefined, autoStart, args, env, cwd,
    ...(sha256 === undefined ? {} : { sha256 }), ...(transport === undefined ? {} : { transport }), ...(autoMtls === undefined ? {} : { autoMtls }),
  };
}

/** `address` (`host:port` or `unix:` + path), with `tls` and `server_name`. */
function checkAddressSource(path: readonly string[], table: RawTable, check: Checker, ctx: ResolveContext): PluginSource | undefined {
  const key = (k: string): string[] => [...path, k];
  let address = check.string(key("address"), table.address);
  if (address !== undefined && address.startsWith("unix:")) {
    // grpc's forms: unix:///abs/path and unix:/abs/path; a relative one is taken from the config's folder.
    const socket = address.replace(/^unix:(\/\/)?/, "");
    if (socket === "") {
      check.report(key("address"), "names no socket path", 'write it like address = "unix:///run/qntx/plugin.sock"');
      address = undefined;
    } else {
      address = `unix://${resolvePath(socket, ctx.baseDir, ctx.home)}`;
    }
  } else if (address !== undefined) {
    const bad = addressProblem(address, false);
    if (bad) {
      check.report(key("address"), bad.problem, bad.hint);
      address = undefined;
    }
  }
  const tls = table.tls === undefined ? undefined : checkTlsFiles(key("tls"), table.tls, check, ctx);
  let serverName: string | undefined;
  if (table.server_name !== undefined) {
    serverName = check.string(key("server_name"), table.server_name);
    if (table.tls === undefined) check.report(key("server_name"), "only applies with tls (the name the plugin's certificate must carry)", "add tls = { ca, cert, key }, or remove server_name");
  }
  if (address === undefined || (table.tls !== undefined && tls === undefined)) return undefined;
  return { kind: "address", address, ...(tls ? { tls } : {}), ...(serverName === undefined ? {} : { serverName }) };
}

/** `depends_on = ["store", "auth@^1.2"]` → dependencies; the range must be valid semver. */
function checkDependencies(path: readonly string[], value: unknown, check: Checker, self: string): Dependency[] {
  const items = checkStringList(path, value, check, 'write it like depends_on = ["store", "auth@^1.2"]');
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
