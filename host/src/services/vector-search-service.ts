/**
 * VectorSearchService as the host serves it: every method forwarded to the plugin that set
 * `vector_search_provider` (routed-service.ts).
 */
import { VectorSearchServiceService } from "@qntx/protocol";
import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import { routedService, type RoutingDeps } from "./routed-service.js";

/** Builds the forwarding implementation of VectorSearchService. */
export function createVectorSearchService(deps: RoutingDeps): UntypedServiceImplementation {
  return routedService(deps, { definition: VectorSearchServiceService, role: "vector_search", grant: "vectors" });
}
