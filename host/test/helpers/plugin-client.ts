/**
 * Host tests call plugins through the one client of DomainPluginService, @qntx/protocol's
 * PluginClient (a deadline on every call, failures as PluginCallError). This file only keeps
 * them short: {@link pluginClient} remembers each client so {@link closePluginClients} in
 * `afterEach` can close it (an open channel keeps jest alive), {@link within} makes a call's
 * deadline, and {@link initializeRequest} / {@link httpRequest} build the usual requests.
 */
import { PluginCallError, PluginClient, type HTTPHeader, type HTTPRequest, type InitializeRequest, type PluginCallOptions } from "@qntx/protocol";

/** Default deadline of a test call. */
const DEFAULT_TIMEOUT_MS = 3_000;

const open = new Set<PluginClient>();

/** A client of the plugin at `address`, closed by {@link closePluginClients}. */
export function pluginClient(address: string): PluginClient {
  const client = new PluginClient(address);
  open.add(client);
  return client;
}

/** Call options with a deadline `timeoutMs` from now. */
export function within(timeoutMs = DEFAULT_TIMEOUT_MS): PluginCallOptions {
  return { deadline: Date.now() + timeoutMs };
}

/** An `InitializeRequest` with every endpoint empty and the given config. */
export function initializeRequest(config: Record<string, string> = {}): InitializeRequest {
  return {
    atsStoreEndpoint: "",
    queueEndpoint: "",
    authToken: "test-token",
    config,
    scheduleEndpoint: "",
    fileServiceEndpoint: "",
    llmEndpoint: "",
    embeddingEndpoint: "",
    vectorSearchEndpoint: "",
    groundEndpoint: "",
    searchEndpoint: "",
    fetchEndpoint: "",
  };
}

/** An `HTTPRequest` as the gateway sends it. */
export function httpRequest(method: string, path: string, options: { headers?: HTTPHeader[]; body?: Buffer | string } = {}): HTTPRequest {
  return { method, path, headers: options.headers ?? [], body: Buffer.from(options.body ?? "") };
}

/** The gRPC status code of a rejected call (undefined when the error is not a failed call). */
export function grpcCode(error: unknown): number | undefined {
  return error instanceof PluginCallError ? error.code : undefined;
}

/** Closes every client made by {@link pluginClient} that is still open. */
export function closePluginClients(): void {
  for (const client of open) client.close();
  open.clear();
}
