/**
 * SearchService as the host serves it: forwarded to the plugin that set `search_provider`
 * (routed-service.ts) once one has, else answered by the built-in index (search-index.ts).
 * Which one answers is decided at each call, so a provider that starts later takes over (the
 * built-in index's documents stay where they are; the provider does not get them).
 */
import { status, type handleUnaryCall, type StatusObject, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { SearchServiceService, type ConfigureIndexRequest, type DeleteDocumentsRequest, type IndexDocumentsRequest, type SearchRequest } from "@qntx/protocol";
import { routedService, type RoutingDeps } from "./routed-service.js";
import { RouteError } from "./provider-router.js";
import type { SearchIndex } from "./search-index.js";

/** Builds SearchService: routed to a provider when there is one, the built-in index otherwise. */
export function createSearchService(deps: RoutingDeps, index: SearchIndex): UntypedServiceImplementation {
  const routed = routedService(deps, { definition: SearchServiceService, role: "search", grant: "search" });
  /** One method of the built-in provider: the caller checked, `work` run, its RouteError a status. */
  const builtin = <Req extends { authToken: string }>(work: (plugin: string, request: Req) => object): handleUnaryCall<Req, object> => (call, callback) => {
    const caller = deps.callers.check(call.request.authToken, "search");
    if (caller.refused) return callback({ code: caller.refused.code, details: caller.refused.message });
    try {
      callback(null, work(caller.plugin, call.request));
    } catch (error) {
      const failure: Partial<StatusObject> = error instanceof RouteError
        ? { code: error.code, details: error.message }
        : { code: status.INTERNAL, details: `built-in search: ${error instanceof Error ? error.message : String(error)}` };
      callback(failure);
    }
  };
  const local: UntypedServiceImplementation = {
    search: builtin((_plugin, request: SearchRequest) => index.search(request)),
    indexDocuments: builtin((plugin, request: IndexDocumentsRequest) => ({ accepted: index.index(plugin, request.index, request.documents) })),
    deleteDocuments: builtin((plugin, request: DeleteDocumentsRequest) => ({ deleted: index.delete(plugin, request.index, request.ids) })),
    configureIndex: builtin((plugin, request: ConfigureIndexRequest) => {
      index.configure(plugin, request);
      return { accepted: true };
    }),
  };
  const impl: UntypedServiceImplementation = {};
  for (const key of Object.keys(SearchServiceService)) {
    impl[key] = ((call: never, callback: never) => {
      const chosen = deps.router.hasProvider("search") ? routed[key] : local[key];
      return (chosen as (call: never, callback: never) => void)(call, callback);
    }) as UntypedServiceImplementation[string];
  }
  return impl;
}
