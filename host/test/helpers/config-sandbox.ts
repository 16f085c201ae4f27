/**
 * The config loader tests' sandbox: each test writes its own `am.plugins.toml` into a fresh
 * temp dir and passes its own `HOME`, so the user's ~/.qntx is never read. Temp dirs go with
 * `cleanupTempDirs()` (helpers/tmp.ts) after each test.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, type ConfigError, type HostConfig } from "../../src/config/index.js";
import { configError } from "./config-error.js";
import { makeTempDir } from "./tmp.js";

/** A temp dir with a `home` folder inside, and the env that points HOME at it. */
export function sandbox(): { dir: string; home: string; env: NodeJS.ProcessEnv } {
  const dir = makeTempDir("qntx-config-");
  const home = join(dir, "home");
  mkdirSync(home);
  return { dir, home, env: { HOME: home } };
}

/** Writes `lines` (joined with "\n", so line numbers are exact) to `dir/name`. */
export function write(dir: string, lines: string[], name = "am.plugins.toml"): string {
  const file = join(dir, name);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

/** Loads `lines` as `<dir>/am.plugins.toml` with cwd = dir. */
export function load(lines: string[]): { config: HostConfig; dir: string; home: string } {
  const { dir, home, env } = sandbox();
  write(dir, lines);
  return { config: loadConfig({ cwd: dir, env }), dir, home };
}

/** The ConfigError loading `lines` as `<dir>/am.plugins.toml` throws (fails the test when none). */
export function loadError(lines: string[]): ConfigError {
  const { dir, env } = sandbox();
  write(dir, lines);
  return configError(() => loadConfig({ cwd: dir, env }));
}
