/** Programmatic API of the qntx host: start a host from a config, and the types it exposes. */
export { startHost, type Host } from "./server.js";
export { loadConfig } from "./config/index.js";
export type { HostConfig, HostSettings, PluginEntry, PluginSource } from "./config/types.js";
export { Registry, type PluginInfo, type PluginKind, type HealthSnapshot, type PluginEvents, type PluginStateChange } from "./plugin/registry.js";
export { PluginInstance } from "./plugin/instance.js";
export { TRANSITIONS, type Transition } from "./plugin/transitions.js";
export { PluginManager } from "./plugin/manager.js";
export { ExternalDomainProxy } from "./plugin/external-proxy.js";
export { PluginCallError, type DomainPlugin, type CallOptions } from "./plugin/domain-plugin.js";
export { PLUGIN_STATES, type PluginState } from "./plugin/state.js";
export { createLogger } from "./logger.js";
export { HOST_VERSION } from "./version.js";
