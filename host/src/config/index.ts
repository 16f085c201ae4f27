/**
 * Host configuration: `am.plugins.toml` (or QNTX's `am.toml`) found, parsed, defaulted,
 * validated and frozen. See `types.ts` for the shape, `load.ts` for the rules and
 * docs/configuration.md for the user's view.
 */
export type {
  AddressSource,
  BinarySearch,
  BinarySource,
  BuiltinSource,
  ConfigFormat,
  Dependency,
  HostConfig,
  HostSettings,
  PluginEntry,
  PluginSource,
} from "./types.js";
export { configFormatOf, loadConfig, parseConfig, type ConfigOverrides, type LoadConfigOptions, type ParseConfigOptions } from "./load.js";
export { ConfigError, formatIssue, type ConfigIssue } from "./errors.js";
export { diffPlugins, pluginEntriesDiffer, type PluginsDiff } from "./diff.js";
export {
  CONFIG_FILE_NAME,
  DEFAULT_DATA_DIR_NAME,
  defaultDataDir,
  expandHome,
  findConfigFile,
  homeDir,
  QNTX_CONFIG_FILE_NAME,
  resolvePath,
  type FindConfigOptions,
} from "./paths.js";
export {
  DEFAULT_HOST_SETTINGS,
  flattenConfig,
  HOST_KEYS,
  PLUGIN_ENTRY_KEYS,
  PLUGIN_KEYS,
  PLUGIN_NAME_PATTERN,
  RESERVED_PLUGIN_NAMES,
} from "./schema.js";
export { parseEnabledEntry, pluginNameFromRepo, qntxBinaryNames } from "./qntx-file.js";
export { goFormatFloat, goJson, qntxSectionConfig, qntxTableConfig, qntxValue } from "./qntx-values.js";
