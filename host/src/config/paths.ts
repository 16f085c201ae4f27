/**
 * Where the host keeps its files and where it looks for its configuration. Lookup order
 * (docs/configuration.md): `--config`, then `./am.plugins.toml`, then QNTX's `am.toml` in the
 * cwd or the nearest folder above it (as QNTX finds it), then `<data dir>/am.plugins.toml`, then
 * `~/.qntx/am.toml` (QNTX's user file). The data dir is `$QNTX_HOME`, else `~/.qntx`.
 */
import { statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { ConfigError } from "./errors.js";

/** File name of the host configuration. */
export const CONFIG_FILE_NAME = "am.plugins.toml";

/** File name of QNTX's configuration, which the host reads too. */
export const QNTX_CONFIG_FILE_NAME = "am.toml";

/** Name of the default data dir inside the home directory. */
export const DEFAULT_DATA_DIR_NAME = ".qntx";

/**
 * The user's home directory: `HOME` from `env` when set (so tests and callers can pin it),
 * else the operating system's answer.
 */
export function homeDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME;
  return home !== undefined && home !== "" ? home : homedir();
}

/**
 * Expands a leading `~` (alone or followed by a separator) to `home`. `~user` forms are
 * left untouched: resolving another user's home needs a passwd lookup we do not want.
 */
export function expandHome(p: string, home: string = homeDir()): string {
  if (p === "~") return home;
  if (p.startsWith("~/") || p.startsWith("~\\")) return join(home, p.slice(2));
  return p;
}

/** Expands `~` and makes `p` absolute against `base`. */
export function resolvePath(p: string, base: string, home: string = homeDir()): string {
  const expanded = expandHome(p, home);
  return isAbsolute(expanded) ? resolve(expanded) : resolve(base, expanded);
}

/**
 * The default data dir: `$QNTX_HOME` (with `~` expanded, absolute against `cwd`)
 * when set and not empty, else `~/.qntx`.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const home = homeDir(env);
  const fromEnv = env.QNTX_HOME;
  if (fromEnv !== undefined && fromEnv.trim() !== "") return resolvePath(fromEnv.trim(), cwd, home);
  return join(home, DEFAULT_DATA_DIR_NAME);
}

/** Inputs of {@link findConfigFile}. */
export interface FindConfigOptions {
  /** `--config` as given; relative to `cwd`, `~` expanded. It must exist. */
  readonly explicit?: string | undefined;
  /** The process cwd: searched for am.plugins.toml, then it and its parents for am.toml. */
  readonly cwd: string;
  /** Data dir, searched for am.plugins.toml after am.toml was not found above the cwd. */
  readonly dataDir: string;
  /** Home used to expand `~` (default: {@link homeDir}). */
  readonly home?: string;
}

/**
 * Finds the configuration file: the explicit path (a `ConfigError` when it does not exist or
 * is not a file), else `<cwd>/am.plugins.toml`, else `am.toml` in `cwd` or the nearest folder
 * above it, else `<dataDir>/am.plugins.toml`, else `<home>/.qntx/am.toml`.
 * Returns the absolute path, or undefined when no file exists (the host runs on defaults).
 */
export function findConfigFile(options: FindConfigOptions): string | undefined {
  const home = options.home ?? homeDir();
  if (options.explicit !== undefined) {
    const file = resolvePath(options.explicit, options.cwd, home);
    const kind = fileKind(file);
    if (kind === "file") return file;
    throw new ConfigError(
      kind === "missing" ? `config file not found: ${file}` : `config path is not a file: ${file}`,
      { hint: `check the path given to --config (it is resolved against ${options.cwd})` },
    );
  }
  const cwd = resolve(options.cwd);
  const local = join(cwd, CONFIG_FILE_NAME);
  if (fileKind(local) === "file") return local;
  const project = findUpwards(cwd, QNTX_CONFIG_FILE_NAME);
  if (project !== undefined) return project;
  const candidates = [join(resolve(options.dataDir), CONFIG_FILE_NAME), join(home, DEFAULT_DATA_DIR_NAME, QNTX_CONFIG_FILE_NAME)];
  return candidates.find((file) => fileKind(file) === "file");
}

/** `name` in `dir` or the nearest folder above it, as QNTX's findProjectConfig walks up. */
function findUpwards(dir: string, name: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    const file = join(current, name);
    if (fileKind(file) === "file") return file;
    if (dirname(current) === current) return undefined;
  }
}

function fileKind(file: string): "file" | "other" | "missing" {
  try {
    return statSync(file).isFile() ? "file" : "other";
  } catch {
    return "missing";
  }
}
