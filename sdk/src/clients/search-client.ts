/**
 * `SearchClient`: the host's SearchService (search.proto): full-text search over documents
 * plugins index — the host's built-in index, or the plugin that provides search. Documents and
 * filters are JSON. Errors are `HOST_CALL_FAILED` with the gRPC status (`grpcCode`).
 */
import { SearchServiceClient, type SearchResponse } from "@qntx/protocol";
import { DEFAULT_HOST_CALL_TIMEOUT_MS, unaryCall, hostClient, type HostCallOptions, type HostClientOptions } from "./call.js";

/** What {@link SearchClient.search} asks. */
export interface SearchQuery {
  index: string;
  /** Words to find ("" lists the index). */
  query?: string;
  /** At most this many hits (default: the provider's, 20 for the host's index). */
  topK?: number;
  /** A filter, as JSON: for the host's index an object of field → value (or values). */
  filters?: unknown;
  /** Fields whose values to count over every match. */
  facets?: string[];
}

/** One hit, its document parsed. */
export interface SearchHitResult {
  id: string;
  score: number;
  document: Record<string, unknown>;
  /** Fields with the query's words marked (`<em>`), as the provider gives them. */
  highlighted: Record<string, unknown>;
}

/** What a search found. */
export interface SearchResult {
  hits: SearchHitResult[];
  total: number;
  processingMs: number;
  /** field → value → count, for the facets asked. */
  facets: Record<string, Record<string, number>>;
}

/** Settings of an index. */
export interface IndexSettings {
  primaryKey?: string;
  filterableAttributes?: string[];
  sortableAttributes?: string[];
  searchableAttributes?: string[];
}

/** The host's search. */
export interface SearchClient {
  readonly endpoint: string;
  search(query: SearchQuery, options?: HostCallOptions): Promise<SearchResult>;
  /** Adds or replaces documents (each an object with its primary key, `id` by default); resolves with how many were accepted. */
  index(index: string, documents: readonly object[], options?: HostCallOptions): Promise<number>;
  /** Deletes documents by id; resolves with how many existed. */
  delete(index: string, ids: readonly string[], options?: HostCallOptions): Promise<number>;
  configure(index: string, settings: IndexSettings, options?: HostCallOptions): Promise<boolean>;
  close(): void;
}

const json = (bytes: Uint8Array): Record<string, unknown> => (bytes.length ? (JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>) : {});

/** A client of the SearchService at `endpoint` that sends `authToken` with every call. */
export function createSearchClient(endpoint: string, authToken: string, options: HostClientOptions = {}): SearchClient {
  const client = hostClient(SearchServiceClient, endpoint, options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_HOST_CALL_TIMEOUT_MS;
  return {
    endpoint,
    async search(query, callOptions) {
      const request = {
        authToken, index: query.index, query: query.query ?? "", topK: query.topK ?? 0,
        filters: query.filters === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(query.filters)), facets: query.facets ?? [],
      };
      const res: SearchResponse = await unaryCall(client, client.search, "SearchService/Search", request, timeoutMs, callOptions);
      return {
        hits: res.hits.map((h) => ({ id: h.id, score: h.score, document: json(h.document), highlighted: json(h.highlighted) })),
        total: res.total, processingMs: res.processingMs, facets: json(res.facetDistribution) as SearchResult["facets"],
      };
    },
    async index(index, documents, callOptions) {
      const request = { authToken, index, documents: documents.map((d) => Buffer.from(JSON.stringify(d))) };
      return (await unaryCall(client, client.indexDocuments, "SearchService/IndexDocuments", request, timeoutMs, callOptions)).accepted;
    },
    async delete(index, ids, callOptions) {
      return (await unaryCall(client, client.deleteDocuments, "SearchService/DeleteDocuments", { authToken, index, ids: [...ids] }, timeoutMs, callOptions)).deleted;
    },
    async configure(index, settings, callOptions) {
      const request = {
        authToken, index, primaryKey: settings.primaryKey ?? "", filterableAttributes: settings.filterableAttributes ?? [],
        sortableAttributes: settings.sortableAttributes ?? [], searchableAttributes: settings.searchableAttributes ?? [],
      };
      return (await unaryCall(client, client.configureIndex, "SearchService/ConfigureIndex", request, timeoutMs, callOptions)).accepted;
    },
    close: () => client.close(),
  };
}
