/**
 * The config a plugin gets: its `[plugins.<name>] config` table with the per-plugin file over
 * it and `${VAR}` references resolved (plugin-config.ts), checked against the ConfigSchema
 * the plugin itself announces, at every start and at every re-configuration.
 */
import { status as grpcStatus } from "@grpc/grpc-js";
import { QntxError } from "@qntx/protocol";
import type { HostConfig, PluginEntry } from "../config/types.js";
import { PluginCallError, type DomainPlugin } from "./domain-plugin.js";
import { configSourceOf, layeredConfig, pluginConfigFile, resolveConfigValues, validateConfig, type KeyLocation } from "./plugin-config.js";

/** The config a plugin should get: its table, the per-plugin files over it, references resolved (plugin-config.ts). */
export function wantedConfig(config: HostConfig, entry: PluginEntry): Record<string, string> {
  return resolveConfigValues(layeredConfig(entry, config.host.dataDir), process.env, entry.name, configSourceOf(config, entry));
}

/**
 * Validates `values` against the plugin's ConfigSchema (required, type, min/max, pattern,
 * array element type) and fills its defaults. A plugin without a schema (UNIMPLEMENTED, or
 * no fields) gets the config as it is.
 * `where` names the file and line of each key (configKeyLocations) in the messages.
 * @throws QntxError CONFIG_INVALID with one line per bad field
 */
export async function checkedConfig(config: HostConfig, name: string, plugin: DomainPlugin, values: Record<string, string>, where?: KeyLocation): Promise<Record<string, string>> {
  if (!plugin.configSchema) return values;
  let schema;
  try {
    schema = await plugin.configSchema({ deadline: Date.now() + config.host.initializeTimeoutMs });
  } catch (error) {
    if (error instanceof PluginCallError && error.code === grpcStatus.UNIMPLEMENTED) return values;
    throw error;
  }
  const checked = validateConfig(values, schema, where);
  if (checked.errors.length) {
    throw new QntxError("CONFIG_INVALID", `plugin ${name} config is invalid:\n  ${checked.errors.join("\n  ")}`, {
      hint: `fix [plugins.${name}] config in am.plugins.toml or ${pluginConfigFile(config.host.dataDir, name)}`,
    });
  }
  return checked.config;
}
