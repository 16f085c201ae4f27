/**
 * `VectorsClient`: the host's VectorSearchService (vectorsearch.proto), forwarded to the plugin
 * that provides vector search. Errors are `HOST_CALL_FAILED` with the gRPC status.
 */
import { VectorSearchServiceClient, type VectorEntry, type VectorSearchHit } from "@qntx/protocol";
import { DEFAULT_HOST_CALL_TIMEOUT_MS, unaryCall, hostClient, type HostCallOptions, type HostClientOptions } from "./call.js";

/** The host's vector indexes. */
export interface VectorsClient {
  readonly endpoint: string;
  createIndex(name: string, dimensions: number, options?: HostCallOptions): Promise<string>;
  /** Adds vectors; resolves with how many were added. */
  add(index: string, vectors: readonly VectorEntry[], options?: HostCallOptions): Promise<number>;
  /** The `topK` nearest to `vector`, nearest first. */
  search(index: string, vector: readonly number[], topK?: number, options?: HostCallOptions): Promise<VectorSearchHit[]>;
  close(): void;
}

/** A client of the VectorSearchService at `endpoint` that sends `authToken` with every call. */
export function createVectorsClient(endpoint: string, authToken: string, options: HostClientOptions = {}): VectorsClient {
  const client = hostClient(VectorSearchServiceClient, endpoint, options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_HOST_CALL_TIMEOUT_MS;
  return {
    endpoint,
    async createIndex(name, dimensions, callOptions) {
      return (await unaryCall(client, client.createIndex, "VectorSearchService/CreateIndex", { authToken, name, dimensions }, timeoutMs, callOptions)).name;
    },
    async add(index, vectors, callOptions) {
      const entries = vectors.map((v) => ({ id: v.id, vector: [...v.vector] }));
      return (await unaryCall(client, client.addVectors, "VectorSearchService/AddVectors", { authToken, index, vectors: entries }, timeoutMs, callOptions)).added;
    },
    async search(index, vector, topK = 10, callOptions) {
      return (await unaryCall(client, client.search, "VectorSearchService/Search", { authToken, index, queryVector: [...vector], topK }, timeoutMs, callOptions)).results;
    },
    close: () => client.close(),
  };
}
