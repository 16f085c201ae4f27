/**
 * QNTX's per-plugin file: `~/.qntx/plugins/<name>.toml`, whose `[config]` table QNTX loads over
 * am.toml (it sets the keys with viper.Set, which wins over every file) and where QNTX's own UI
 * writes a plugin's changed settings. This host reads it from `<data_dir>/plugins/<name>.toml`
 * (the same file while the data dir is ~/.qntx) each time the plugin starts, for plugins of
 * either config format. Values are converted as QNTX converts them (`qntx-values.ts`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Checker, isTable, typeName } from "./checker.js";
import { configErrorFromIssues } from "./errors.js";
import { SourceIndex } from "./locate.js";
import { parseToml } from "./parse-toml.js";
import { qntxSectionConfig } from "./qntx-values.js";

/** Path of QNTX's per-plugin file of plugin `name`. */
export function qntxPluginFile(dataDir: string, name: string): string {
  return join(dataDir, "plugins", `${name}.toml`);
}

/**
 * The `[config]` table of `<data_dir>/plugins/<name>.toml` as strings, or {} when the file or
 * the table is absent. An empty string is kept: over the config table it removes the key, as
 * in QNTX (which sets it, then skips empty values when it sends the config).
 * @throws ConfigError (CONFIG_INVALID) naming the file and line
 */
export function readQntxPluginFile(dataDir: string, name: string): Record<string, string> {
  const file = qntxPluginFile(dataDir, name);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return {};
  }
  const raw = parseToml(text, file, file, { integersAsBigInt: true });
  if (raw.config === undefined) return {};
  if (!isTable(raw.config)) {
    const check = new Checker(new SourceIndex(text));
    check.report(["config"], `must be a table (got ${typeName(raw.config)})`, "write it as a [config] table: one key per setting");
    throw configErrorFromIssues(check.issues, file, file);
  }
  return qntxSectionConfig(raw.config);
}
