/**
 * The provider step: a plugin whose Initialize answer sets a provider flag (`llm_provider`,
 * `embedding_provider`, `vector_search_provider`, `search_provider`) must serve that service
 * on its own port, because the host routes other plugins' calls to it there. Each announced
 * service is called once, as the host would forward a call: `LLMService.Chat`,
 * `EmbeddingService.Embed`, `VectorSearchService.Search`, `SearchService.Search`. An answer,
 * or an error status of the service's own (NOT_FOUND for an unknown index, …), passes;
 * UNIMPLEMENTED or no answer fails.
 */
import { Metadata, status, type Client, type MethodDefinition } from "@grpc/grpc-js";
import {
  CALLER_METADATA, EmbeddingServiceService, LLMServiceService, PluginCallError, SearchServiceService, VectorSearchServiceService, callErrorOf,
  type InitializeResponse, type PluginCallOptions,
} from "@qntx/protocol";
import { failedWith } from "./calls.js";
import type { CheckRun } from "./context.js";

/** Each provider flag: its service, the call made, and how its answer reads in the report. */
const PROVIDED = [
  {
    flag: "llmProvider", wire: "llm_provider", id: "provider-llm", service: "LLMService", method: LLMServiceService.chat,
    request: { messages: [{ role: "user", content: "qntx plugin check" }], systemPrompt: "", userPrompt: "", model: "", temperature: 0, maxTokens: 16, provider: "", attachments: [], priority: 0, authToken: "" },
    detail: (answer: { content?: string; model?: string }) => `Chat answered ${JSON.stringify((answer.content ?? "").slice(0, 40))}${answer.model ? ` (model ${answer.model})` : ""}`,
  },
  {
    flag: "embeddingProvider", wire: "embedding_provider", id: "provider-embedding", service: "EmbeddingService", method: EmbeddingServiceService.embed,
    request: { authToken: "", text: "qntx plugin check", model: "" },
    detail: (answer: { vector?: number[]; model?: string }) => `Embed answered a vector of ${answer.vector?.length ?? 0} dimensions${answer.model ? ` (model ${answer.model})` : ""}`,
  },
  {
    flag: "vectorSearchProvider", wire: "vector_search_provider", id: "provider-vector-search", service: "VectorSearchService", method: VectorSearchServiceService.search,
    request: { authToken: "", index: "qntx-check", queryVector: [0, 0], topK: 1 },
    detail: (answer: { results?: unknown[] }) => `Search answered ${answer.results?.length ?? 0} result(s)`,
  },
  {
    flag: "searchProvider", wire: "search_provider", id: "provider-search", service: "SearchService", method: SearchServiceService.search,
    request: { query: "qntx", index: "qntx-check", topK: 1, filters: Buffer.alloc(0), facets: [], authToken: "" },
    detail: (answer: { total?: number }) => `Search answered (${answer.total ?? 0} total)`,
  },
] as const satisfies ReadonlyArray<{ flag: keyof InitializeResponse; wire: string; id: string; service: string; method: object; request: object; detail: (answer: never) => string }>;

/** Calls each service the plugin announced it provides, once. */
export async function stepProviders(run: CheckRun): Promise<void> {
  const title = "Provider services";
  if (run.skippedAsGone("providers", title) || run.skippedAsLive("providers", title)) return;
  const init = run.init;
  if (!init) return run.rec.skip("providers", title, "not reached: Initialize did not answer");
  const announced = PROVIDED.filter((p) => init[p.flag] === true);
  if (announced.length === 0) return run.rec.skip("providers", title, "no provider flags set: the plugin provides no routed service");
  for (const p of announced) {
    const label = `${p.service}.${p.method.path.slice(p.method.path.lastIndexOf("/") + 1)} (${p.wire})`;
    try {
      const answer = await run.client!.call(label, run.options.callTimeoutMs, (plugin, options) => unary(plugin.serviceClient(), p.method as MethodDefinition<object, object>, p.request, options));
      run.rec.pass(p.id, label, (p.detail as (answer: object) => string)(answer));
    } catch (error) {
      if (failedWith(error, status.UNIMPLEMENTED)) {
        run.rec.fail(p.id, label, `${p.wire} is set, but the plugin does not serve ${p.service} on its port (UNIMPLEMENTED)`, `register ${p.service} on the plugin's gRPC server beside DomainPluginService, or leave ${p.wire} unset`);
      } else if (error instanceof PluginCallError && error.code !== status.DEADLINE_EXCEEDED && error.code !== status.UNAVAILABLE) {
        run.rec.pass(p.id, label, `served: answered ${error.message.replace(/^.*?: gRPC /, "")} (the service's own error for a check's request)`);
      } else {
        run.failCall(p.id, label, error, `the host forwards other plugins' ${p.service} calls here: answer them within their deadline`);
      }
    }
  }
}

/** One unary call of `method` on `client`, as the host forwards it (the caller named in metadata, no token). */
function unary(client: Client, method: MethodDefinition<object, object>, request: object, options: PluginCallOptions): Promise<object> {
  const metadata = new Metadata();
  metadata.set(CALLER_METADATA, "qntx-plugin-check");
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, metadata, { deadline: options.deadline }, (error, answer) =>
      error ? reject(callErrorOf(error, method.path, error) ?? error) : resolve(answer!));
  });
}
