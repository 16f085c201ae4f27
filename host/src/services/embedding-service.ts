/**
 * EmbeddingService as the host serves it: every method forwarded to the plugin that set
 * `embedding_provider` (routed-service.ts). QNTX serves the cluster methods from its own store;
 * this host has none, so they go to the provider too (UNIMPLEMENTED when it has none).
 */
import { EmbeddingServiceService, type BatchEmbedResponse, type EmbedResponse } from "@qntx/protocol";
import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import { routedService, type RoutingDeps } from "./routed-service.js";

/** Builds the forwarding implementation of EmbeddingService. */
export function createEmbeddingService(deps: RoutingDeps): UntypedServiceImplementation {
  return routedService(deps, {
    definition: EmbeddingServiceService,
    role: "embedding",
    grant: "embedding",
    usageOf: (message) => {
      const m = message as Partial<EmbedResponse & BatchEmbedResponse>;
      const tokens = m.tokens ?? m.totalTokens ?? 0;
      return { promptTokens: tokens, completionTokens: 0, totalTokens: tokens };
    },
  });
}
