/**
 * The Initialize request as a QNTX module's `init(request)` sees it. QNTX's Bun runtime gave
 * modules the proto-loader object (snake_case keys); modules written against generated
 * TypeScript types use camelCase. Both spellings are filled, so either kind works unchanged.
 */
import type { InitContext } from "../types.js";
import type { QntxInitRequest } from "./types.js";

/** Builds the request object `init` receives from the SDK's init context. */
export function toQntxInitRequest(ctx: InitContext): QntxInitRequest {
  const e = ctx.endpoints;
  const config = { ...ctx.config };
  return {
    ats_store_endpoint: e.ats,
    queue_endpoint: e.queue,
    auth_token: ctx.authToken,
    config,
    schedule_endpoint: e.schedule,
    file_service_endpoint: e.fileService,
    llm_endpoint: e.llm,
    embedding_endpoint: e.embedding,
    vector_search_endpoint: e.vectorSearch,
    ground_endpoint: e.ground,
    search_endpoint: e.search,
    fetch_endpoint: e.fetch,
    atsStoreEndpoint: e.ats,
    queueEndpoint: e.queue,
    authToken: ctx.authToken,
    scheduleEndpoint: e.schedule,
    fileServiceEndpoint: e.fileService,
    llmEndpoint: e.llm,
    embeddingEndpoint: e.embedding,
    vectorSearchEndpoint: e.vectorSearch,
    groundEndpoint: e.ground,
    searchEndpoint: e.search,
    fetchEndpoint: e.fetch,
  };
}
