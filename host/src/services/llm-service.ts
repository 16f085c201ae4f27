/**
 * LLMService (`Chat`, `StreamChat`) as the host serves it: every call forwarded to the plugin
 * that set `llm_provider` (routed-service.ts). `LLMChatRequest.provider` may name one of several
 * LLM providers, as in QNTX; the token usage of answers and of a stream's final chunk goes into
 * the usage record with the provider's reported cost.
 */
import { LLMServiceService, type LLMChatChunk, type LLMChatRequest, type LLMChatResponse } from "@qntx/protocol";
import type { UntypedServiceImplementation } from "@grpc/grpc-js";
import { routedService, type RoutingDeps } from "./routed-service.js";

/** Builds the forwarding implementation of LLMService. */
export function createLlmService(deps: RoutingDeps): UntypedServiceImplementation {
  return routedService(deps, {
    definition: LLMServiceService,
    role: "llm",
    grant: "llm",
    requestedProvider: (request) => (request as LLMChatRequest).provider,
    usageOf: (message) => {
      const m = message as Partial<LLMChatResponse & LLMChatChunk>;
      return { promptTokens: m.promptTokens ?? 0, completionTokens: m.completionTokens ?? 0, totalTokens: m.totalTokens ?? 0 };
    },
  });
}
