/**
 * `EmbeddingClient`: the host's EmbeddingService (embedding.proto), forwarded to the plugin that
 * provides embeddings. Errors are `HOST_CALL_FAILED` with the gRPC status.
 */
import { EmbeddingServiceClient, type BatchEmbedResponse, type EmbedResponse, type ModelInfoResponse } from "@qntx/protocol";
import { DEFAULT_HOST_CALL_TIMEOUT_MS, unaryCall, hostClient, type HostCallOptions, type HostClientOptions } from "./call.js";

/** The host's embeddings. */
export interface EmbeddingClient {
  readonly endpoint: string;
  /** The vector of `text` (`model` "" = the provider's default). */
  embed(text: string, options?: HostCallOptions & { model?: string }): Promise<EmbedResponse>;
  /** The vectors of several texts, in order. */
  batch(texts: readonly string[], options?: HostCallOptions & { model?: string }): Promise<BatchEmbedResponse>;
  modelInfo(options?: HostCallOptions & { model?: string }): Promise<ModelInfoResponse>;
  close(): void;
}

/** A client of the EmbeddingService at `endpoint` that sends `authToken` with every call. */
export function createEmbeddingClient(endpoint: string, authToken: string, options: HostClientOptions = {}): EmbeddingClient {
  const client = hostClient(EmbeddingServiceClient, endpoint, options);
  const timeoutMs = options.timeoutMs ?? 3 * DEFAULT_HOST_CALL_TIMEOUT_MS;
  return {
    endpoint,
    embed: (text, callOptions) => unaryCall(client, client.embed, "EmbeddingService/Embed", { authToken, text, model: callOptions?.model ?? "" }, timeoutMs, callOptions),
    batch: (texts, callOptions) => unaryCall(client, client.batchEmbed, "EmbeddingService/BatchEmbed", { authToken, texts: [...texts], model: callOptions?.model ?? "" }, timeoutMs, callOptions),
    modelInfo: (callOptions) => unaryCall(client, client.modelInfo, "EmbeddingService/ModelInfo", { authToken, model: callOptions?.model ?? "" }, timeoutMs, callOptions),
    close: () => client.close(),
  };
}
