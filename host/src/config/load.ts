/**
 * Loads the host configuration: find `am.plugins.toml`, parse it, apply defaults, validate,
 * apply command-line overrides, freeze (raw → defaults → validated → frozen).
 * Every problem of a file is reported at once, each as `file:line: key problem`.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { parse, TomlError } from "smol-toml";
import { addressProblem, Checker, isTable, type RawTable } from "./checker.js";
import { ConfigError, configErrorFromIssues } from "./errors.js";
import { SourceIndex } from "./locate.js";
import { defaultDataDir, findConfigFile, homeDir, resolvePath } from "./paths.js";
import { checkHost, checkPlugins, DEFAULT_HOST_SETTINGS, type MutableHostSettings } from "./schema.js";
import type { HostConfig } from "./types.js";

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

/** Top-level keys of the file. */
const TOP_LEVEL_KEYS = ["host", "plugins"] as const;

/**
 * Finds and loads the configuration (`--config`, then `<cwd>/am.plugins.toml`, then
 * `<data dir>/am.plugins.toml`). Without a file the host runs on defaults with no plugins.
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
  const source = new SourceIndex(text);
  const check = new Checker(source);

  check.unknownKeys([], raw, TOP_LEVEL_KEYS, "the file (top level)");
  const given = checkHost(raw.host, check, ctx);
  const plugins = checkPlugins(raw.plugins, check, ctx);

  const settings: MutableHostSettings = { ...DEFAULT_HOST_SETTINGS, dataDir: defaultDataDir(env, cwd), ...given };
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

  if (check.issues.length > 0) throw configErrorFromIssues(check.issues, absFile, shown);
  return deepFreeze({ file: absFile, baseDir: ctx.baseDir, host: settings, plugins });
}

/** Parses TOML, turning a syntax error into `file:line:col: what` with the spot shown in the hint. */
function parseToml(text: string, file: string | undefined, shown: string): RawTable {
  try {
    const raw: unknown = parse(text);
    return isTable(raw) ? raw : {};
  } catch (error) {
    if (error instanceof TomlError) {
      const what = (error.message.split("\n")[0] ?? "").replace(/^Invalid TOML document:\s*/, "") || "invalid TOML";
      const spot = error.codeblock ? `:\n${error.codeblock.replace(/\n+$/, "")}` : "";
      const issue = {
        line: error.line,
        column: error.column,
        path: "",
        problem: `TOML syntax error: ${what}`,
        hint: `fix the TOML syntax at line ${error.line}${spot}`,
      };
      throw configErrorFromIssues([issue], file, shown, error);
    }
    throw new ConfigError(`${shown}: cannot parse: ${(error as Error).message}`, { file, cause: error });
  }
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
