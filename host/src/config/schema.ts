/**
 * The schema of am.plugins.toml, by part: `[host]` (host-schema.ts), one plugin table
 * (plugin-schema.ts), the `plugins` section in both its forms (plugins-section.ts), shared value
 * checks and config flattening (values.ts). This module gathers them for callers that want one
 * import. QNTX's am.toml has its own modules: qntx-file.ts, qntx-host.ts, qntx-values.ts.
 */
export { checkHost, DEFAULT_HOST_SETTINGS, HOST_KEYS, type MutableHostSettings, type ResolveContext } from "./host-schema.js";
export { checkPluginName, pluginNameProblem, PLUGIN_KEYS, PLUGIN_NAME_PATTERN, RESERVED_PLUGIN_NAMES } from "./plugin-schema.js";
export { checkPlugins, PLUGIN_ENTRY_KEYS } from "./plugins-section.js";
export { flattenConfig } from "./values.js";
