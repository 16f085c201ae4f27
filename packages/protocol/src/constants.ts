/** Constants of the QNTX plugin wire contract and of this host's defaults. */

/** Prefix of the stdout line a plugin prints once it listens: `QNTX_PLUGIN_PORT=<port>`. */
export const PORT_LINE_PREFIX = "QNTX_PLUGIN_PORT=";

/** First port the host probes when it picks `--port` for a spawned plugin. */
export const DEFAULT_PLUGIN_BASE_PORT = 38700;

/** How many ports above `--port` a plugin tries when its port is busy (docs/protocol.md §2). */
export const PORT_PROBE_SPAN = 64;

/** How long the host waits for the port line before assuming the port it passed. */
export const PORT_LINE_TIMEOUT_MS = 2_000;

/** How long the host polls `Metadata` for the configured name before giving up. */
export const METADATA_READY_TIMEOUT_MS = 5_000;

/** Default HTTP listen address of the host. */
export const DEFAULT_LISTEN = "127.0.0.1:8770";

/** Largest gRPC message either side accepts by default (matches the 10 MiB HTTP body limit plus framing). */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Full method paths of DomainPluginService, for logs and tests. */
export const DOMAIN_SERVICE_NAME = "protocol.DomainPluginService";

/**
 * Call metadata the host adds to every call it routes to a provider plugin [ours]: the name of
 * the plugin that made the call. The caller's own token never reaches the provider.
 */
export const CALLER_METADATA = "x-qntx-caller";

/**
 * Trailing metadata a provider may send with an answer [ours]: what the call cost, in US
 * dollars (a decimal number). The host records it in the usage record Pulse's budgets sum.
 */
export const COST_TRAILER = "qntx-cost-usd";
