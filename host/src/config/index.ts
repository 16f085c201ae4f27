/**
 * Host configuration: `am.plugins.toml` found, parsed, defaulted, validated and frozen.
 * See `types.ts` for the shape and `load.ts` for the rules.
 */
export type { AddressSource, BinarySource, BuiltinSource, HostConfig, HostSettings, PluginEntry, PluginSource } from "./types.js";
export { loadConfig, parseConfig, type ConfigOverrides, type LoadConfigOptions, type ParseConfigOptions } from "./load.js";
export { ConfigError, formatIssue, type ConfigIssue } from "./errors.js";
export {
  CONFIG_FILE_NAME,
  DEFAULT_DATA_DIR_NAME,
  defaultDataDir,
  expandHome,
  findConfigFile,
  homeDir,
  resolvePath,
  type FindConfigOptions,
} from "./paths.js";
export {
  DEFAULT_HOST_SETTINGS,
  flattenConfig,
  HOST_KEYS,
  PLUGIN_KEYS,
  PLUGIN_NAME_PATTERN,
  RESERVED_PLUGIN_NAMES,
} from "./schema.js";
