/**
 * Loads the host configuration: find the file, parse it, apply defaults, validate, apply
 * command-line overrides, freeze (raw → defaults → validated → frozen). Two layouts are read:
 * this host's `am.plugins.toml` and QNTX's `am.toml` (see {@link configFormatOf}).
 * Every problem of a file is reported at once, each as `file:line: key problem`.
 */
import { readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, relative, resolve } from "node:path";
import { addressProblem, Checker, type RawTable } from "./checker.js";
import { ConfigError, configErrorFromIssues } from "./errors.js";
import { checkHost, DATABASE_HINT, databaseProblem, DEFAULT_HOST_SETTINGS, type MutableHostSettings } from "./host-schema.js";
import { SourceIndex } from "./locate.js";
import { parseToml } from "./parse-toml.js";
import { CONFIG_FILE_NAME, defaultDataDir, findConfigFile, homeDir, QNTX_CONFIG_FILE_NAME, resolvePath } from "./paths.js";
import { checkPlugins } from "./plugins-section.js";
import { checkPulse, checkPulseLease, checkServiceKeys, DEFAULT_BUDGET_SETTINGS, DEFAULT_SERVICE_SETTINGS } from "./services-schema.js";
import { checkQntxPlugins, qntxIgnoredNote } from "./qntx-file.js";
import { QNTX_MAPPED_KEYS, qntxHostSettings } from "./qntx-host.js";
import type { ConfigFormat, HostConfig, PluginEntry } from "./types.js";

/** Command-line flags that override the `[host]` keys they mirror. */
export interface ConfigOverrides {
  /** `--listen host:port`, wins over `[host] listen`. */
  readonly listen?: string | undefined;
  /** `--data-dir`, wins over `[host] data_dir` and `$QNTX_HOME`; relative to `cwd`. */
  readonly dataDir?: string | undefined;
}

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions {
  /** Folder relative flags and file names are resolved against (default: `process.cwd()`). */
  readonly cwd?: string;
  /** Environment read for `HOME` and `QNTX_HOME` (default: `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Command-line overrides. */
  readonly overrides?: ConfigOverrides;
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions extends ParseConfigOptions {
  /** `--config`: this file must exist; when absent the usual lookup order applies. */
  readonly configPath?: string | undefined;
}

/** Top-level keys of am.plugins.toml. */
const TOP_LEVEL_KEYS = ["host", "pulse", "plugins"] as const;

/**
 * The layout of a config file: by its name when it is `am.plugins.toml` or `am.toml`, else by
 * its content (a `[plugin]` table and no `plugins` section is QNTX's am.toml).
 */
export function configFormatOf(file: string | undefined, raw: RawTable): ConfigFormat {
  const name = file === undefined ? "" : basename(file);
  if (name === CONFIG_FILE_NAME) return "am.plugins.toml";
  if (name === QNTX_CONFIG_FILE_NAME) return "am.toml";
  return raw.plugin !== undefined && raw.plugins === undefined ? "am.toml" : "am.plugins.toml";
}

/**
 * Finds and loads the configuration (`--config`, then `<cwd>/am.plugins.toml`, then `am.toml`
 * in the cwd or above, then `<data dir>/am.plugins.toml`, then `~/.qntx/am.toml`). Without a
 * file the host runs on defaults with no plugins.
 * Throws a {@link ConfigError} listing every problem found.
 */
export function loadConfig(options: LoadConfigOptions = {}): HostConfig {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const home = homeDir(env);
  const override = options.overrides?.dataDir;
  const lookupDataDir = override !== undefined && override !== "" ? resolvePath(override, cwd, home) : defaultDataDir(env, cwd);
  const file = findConfigFile({ explicit: options.configPath, cwd, dataDir: lookupDataDir, home });
  if (file === undefined) return parseConfig("", undefined, options);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`, {
      file,
      cause: error,
      hint: "check the file's permissions",
    });
  }
  return parseConfig(text, file, options);
}

/**
 * Parses and validates configuration text. `file` (relative to `cwd`) is used for messages,
 * for `HostConfig.file` and as the base of relative paths; undefined means "no file" (then
 * `baseDir` is `cwd`). Throws a {@link ConfigError} listing every problem found.
 */
export function parseConfig(text: string, file: string | undefined, options: ParseConfigOptions = {}): HostConfig {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const absFile = file === undefined ? undefined : resolve(cwd, file);
  const shown = absFile === undefined ? "<config>" : displayPath(absFile, cwd);
  const ctx = { baseDir: absFile === undefined ? cwd : dirname(absFile), home: homeDir(env) };

  const raw = parseToml(text, absFile, shown);
  const format = configFormatOf(absFile, raw);
  const check = new Checker(new SourceIndex(text));

  const given = checkHost(raw.host, check, ctx);
  // In am.toml, QNTX's own settings with an exact counterpart come first; [host] wins over them.
  const mapped = format === "am.toml" ? qntxHostSettings(raw, check) : {};
  const settings: MutableHostSettings = { ...DEFAULT_HOST_SETTINGS, dataDir: defaultDataDir(env, cwd), ...mapped, ...given };
  const services = { ...DEFAULT_SERVICE_SETTINGS, ...checkServiceKeys(raw.host, check) };
  // am.toml's [pulse] is QNTX's section: only its budget keys are read, the rest is QNTX's own.
  const budget = { ...DEFAULT_BUDGET_SETTINGS, ...checkPulse(raw.pulse, check, format === "am.toml") };
  const leaseMs = checkPulseLease(raw.pulse, check);
  if (leaseMs !== undefined) settings.jobLeaseMs = leaseMs;
  // The environment wins over the file: one host of a shared installation can be pointed
  // elsewhere without editing the file they share.
  const envDatabase = env.QNTX_DATABASE_URL;
  if (envDatabase !== undefined && envDatabase !== "") {
    const bad = databaseProblem(envDatabase);
    if (bad) check.reportFlag("QNTX_DATABASE_URL", bad, DATABASE_HINT);
    else Object.assign(settings, { database: envDatabase, databaseFrom: "QNTX_DATABASE_URL" });
  }
  const overrides = options.overrides ?? {};
  if (overrides.listen !== undefined) {
    const bad = addressProblem(overrides.listen, true);
    if (bad) check.reportFlag("--listen", bad.problem, bad.hint);
    else settings.listen = overrides.listen;
  }
  if (overrides.dataDir !== undefined) {
    if (overrides.dataDir.trim() === "") check.reportFlag("--data-dir", "must not be empty");
    else settings.dataDir = resolvePath(overrides.dataDir, cwd, ctx.home);
  }

  let plugins: PluginEntry[];
  const notes: string[] = [];
  if (format === "am.toml") {
    const rawBig = parseToml(text, absFile, shown, { integersAsBigInt: true });
    plugins = checkQntxPlugins(raw, rawBig, check, { ...ctx, cwd, dataDir: settings.dataDir, text });
    const note = qntxIgnoredNote(raw, plugins, QNTX_MAPPED_KEYS);
    if (note) notes.push(`${shown}: ${note}`);
  } else {
    const { plugin, ...rest } = raw;
    check.unknownKeys([], rest, TOP_LEVEL_KEYS, "the file (top level)");
    if (plugin !== undefined) {
      check.report(
        ["plugin"],
        'is a section of QNTX\'s am.toml, not of am.plugins.toml (did you mean "plugins"?)',
        "name the file am.toml to read it as QNTX does, or write [plugins.<name>] tables or [[plugins]] entries",
      );
    }
    plugins = checkPlugins(raw.plugins, check, ctx);
  }

  if (check.issues.length > 0) throw configErrorFromIssues(check.issues, absFile, shown);
  return deepFreeze({ file: absFile, format, notes, baseDir: ctx.baseDir, host: settings, services, budget, plugins });
}

/** The file as the user would type it: relative to `cwd` when inside it, else absolute. */
function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

/** Freezes `value` and everything reachable from it. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
