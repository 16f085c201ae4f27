/**
 * What every `PluginInstance` of one host shares: the config, the services it offers plugins,
 * the launcher, the process-slot resources, the registry's event emitter, and whether the
 * host is shutting down. The manager builds one and hands it to each instance.
 */
import type { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { InitializeRequest, PluginCallObserver } from "@qntx/protocol";
import type { HostConfig, PluginEntry } from "../config/types.js";
import type { PluginTokens } from "../services/tokens.js";
import type { Launch } from "./launch.js";
import type { PluginEvents, PluginKind } from "./plugin-info.js";
import type { SlotDeps } from "./process-slot.js";
import type { PluginOutputSink } from "./process.js";

/** The services the host offers plugins, filled into every InitializeRequest. */
export interface HostServices {
  /** Endpoints (`host:port`, "" = not offered) for InitializeRequest. */
  readonly endpoints: Omit<InitializeRequest, "authToken" | "config">;
  /**
   * Endpoints for dialed plugins when they differ (`[host] grpc_tls`: the TLS server, while
   * spawned plugins keep a loopback plaintext one). Default: `endpoints`.
   */
  readonly dialedEndpoints?: Omit<InitializeRequest, "authToken" | "config">;
  /** Issues each plugin its own token for the host's services at every start. */
  readonly tokens: PluginTokens;
  /** Where spawned plugins' output goes (ring, log file); the same log across restarts. */
  readonly logs?: { forPlugin(name: string): PluginOutputSink };
  /** The observer of each plugin's gRPC client (the host's metrics); none when metrics are off. */
  readonly callObserver?: (plugin: string) => PluginCallObserver;
}

/** See the file comment. */
export interface InstanceContext {
  readonly config: HostConfig;
  readonly services: HostServices;
  readonly logger: Logger;
  /** The registry: every state change, Initialize and health check is emitted here. */
  readonly events: EventEmitter<PluginEvents>;
  /** This host's version, which a plugin's `qntx_version` range must satisfy. */
  readonly hostVersion: string;
  readonly launch: Launch;
  readonly slots: SlotDeps;
  /** True once the host shuts down: crashes are no longer restarted. */
  readonly closing: () => boolean;
}

/** The InitializeRequest endpoints of a plugin: a dialed one may get the TLS services server. */
export function endpointsFor(services: HostServices, entry: PluginEntry): Omit<InitializeRequest, "authToken" | "config"> {
  return entry.source.kind === "address" ? (services.dialedEndpoints ?? services.endpoints) : services.endpoints;
}

/** How a config entry's plugin reaches the host. */
export function kindOf(entry: PluginEntry): PluginKind {
  return entry.source.kind === "builtin" ? "builtin" : entry.source.kind === "address" ? "dialed" : "spawned";
}
