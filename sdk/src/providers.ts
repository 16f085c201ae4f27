/**
 * `provides` in `definePlugin`: services a plugin offers other plugins, which the host routes to
 * it (ADR-003: plugins never dial each other). Each one sets its flag in the Initialize answer
 * (`llm_provider`, `embedding_provider`, `vector_search_provider`, `search_provider`) and is
 * served on the plugin's own gRPC port, beside DomainPluginService, as QNTX's providers do.
 *
 * A provider method gets the request and a {@link ProviderContext}: which plugin called (the
 * host's `x-qntx-caller` metadata; the caller's token never reaches a provider), an abort
 * signal for the caller's cancellation and deadline, and `cost(usd)`, which the host records
 * for the budget. Throwing answers INTERNAL with the message; a {@link ProviderError} answers
 * its own status.
 */
import { Metadata, status as GrpcStatus, type Server, type ServiceDefinition, type UntypedServiceImplementation, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData } from "@grpc/grpc-js";
import {
  CALLER_METADATA, COST_TRAILER, EmbeddingServiceService, EmbedResponse, BatchEmbedResponse, LLMChatChunk, LLMChatResponse, LLMServiceService,
  ModelInfoResponse, SearchResponse, SearchServiceService, VectorSearchServiceService, type ConfigureIndexRequest, type LLMChatRequest,
  type SearchRequest, type VectorEntry, type VectorSearchHit,
} from "@qntx/protocol";
import type { Logger } from "./log.js";

/** What a provider method knows of its call. */
export interface ProviderContext {
  /** The plugin that made the call (as the host names it); "" when not called through a host. */
  readonly caller: string;
  /** Aborts when the caller cancels or its deadline passes. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Adds to what this call cost, in US dollars; the host records it against the budget. */
  cost(usd: number): void;
}

/** An LLM provider. */
export interface LlmProvider {
  /** One answer: its text, or the response's fields (content, model, token counts). */
  chat(request: LLMChatRequest, ctx: ProviderContext): string | Partial<LLMChatResponse> | Promise<string | Partial<LLMChatResponse>>;
  /**
   * The answer as it is made: yield tokens (strings) or chunks; `return` the final usage
   * (`{promptTokens, completionTokens, totalTokens, model}`), sent on the closing `done` chunk.
   * Without it, StreamChat answers `chat`'s reply as one chunk.
   */
  stream?(request: LLMChatRequest, ctx: ProviderContext): AsyncIterable<string | Partial<LLMChatChunk>> | AsyncGenerator<string | Partial<LLMChatChunk>, Partial<LLMChatChunk> | void>;
}

/** An embedding provider. */
export interface EmbeddingProvider {
  /** The vector of `text` (or the response's fields). */
  embed(text: string, model: string, ctx: ProviderContext): number[] | Partial<EmbedResponse> | Promise<number[] | Partial<EmbedResponse>>;
  /** About the model; default: its name and the dimensions of an embedding of "". */
  modelInfo?(model: string, ctx: ProviderContext): Partial<ModelInfoResponse> | Promise<Partial<ModelInfoResponse>>;
}

/** A vector search provider. */
export interface VectorsProvider {
  createIndex(name: string, dimensions: number, ctx: ProviderContext): void | Promise<void>;
  /** Adds vectors; returns how many (default: all of them). */
  add(index: string, vectors: VectorEntry[], ctx: ProviderContext): number | void | Promise<number | void>;
  /** The `topK` nearest, nearest first. */
  search(index: string, vector: number[], topK: number, ctx: ProviderContext): VectorSearchHit[] | Promise<VectorSearchHit[]>;
}

/** A search provider (documents arrive parsed from their JSON). */
export interface SearchProvider {
  search(request: SearchRequest, ctx: ProviderContext): Partial<SearchResponse> | Promise<Partial<SearchResponse>>;
  /** Adds or replaces documents; returns how many were accepted (default: all). */
  index(index: string, documents: Array<Record<string, unknown>>, ctx: ProviderContext): number | void | Promise<number | void>;
  /** Deletes documents; returns how many existed. */
  delete(index: string, ids: string[], ctx: ProviderContext): number | Promise<number>;
  configure?(request: ConfigureIndexRequest, ctx: ProviderContext): boolean | void | Promise<boolean | void>;
}

/** `provides` of `definePlugin`. */
export interface ProviderDefs {
  llm?: LlmProvider;
  embedding?: EmbeddingProvider;
  vectors?: VectorsProvider;
  search?: SearchProvider;
}

/** A provider's refusal with a gRPC status of its choice (`NOT_FOUND`, `INVALID_ARGUMENT`, …). */
export class ProviderError extends Error {
  readonly code: GrpcStatus;
  constructor(code: keyof typeof GrpcStatus, message: string) {
    super(message);
    this.name = "ProviderError";
    this.code = GrpcStatus[code];
  }
}

/** The InitializeResponse flags `provides` sets. */
export function providerFlags(provides: ProviderDefs | undefined): { llmProvider: boolean; embeddingProvider: boolean; vectorSearchProvider: boolean; searchProvider: boolean } {
  return { llmProvider: !!provides?.llm, embeddingProvider: !!provides?.embedding, vectorSearchProvider: !!provides?.vectors, searchProvider: !!provides?.search };
}

/** Throws a TypeError naming what is wrong with `provides`. */
export function checkProviders(provides: unknown): ProviderDefs | undefined {
  if (provides === undefined) return undefined;
  if (typeof provides !== "object" || provides === null) throw new TypeError("provides must be an object: { llm?, embedding?, vectors?, search? }");
  const required: Record<string, string[]> = { llm: ["chat"], embedding: ["embed"], vectors: ["createIndex", "add", "search"], search: ["search", "index", "delete"] };
  for (const [service, value] of Object.entries(provides)) {
    const methods = required[service];
    if (!methods) throw new TypeError(`provides.${service}: unknown service (known: ${Object.keys(required).join(", ")})`);
    for (const method of methods) {
      if (typeof (value as Record<string, unknown> | undefined)?.[method] !== "function") throw new TypeError(`provides.${service}.${method} must be a function`);
    }
  }
  return provides as ProviderDefs;
}

/** Registers the services `provides` declares on the plugin's server; returns their definitions (for reflection). */
export function addProviderServices(server: Server, provides: ProviderDefs | undefined, log: Logger): ServiceDefinition[] {
  const added: ServiceDefinition[] = [];
  const add = (definition: ServiceDefinition, implementation: UntypedServiceImplementation): void => {
    server.addService(definition, implementation);
    added.push(definition);
  };
  if (provides?.llm) add(LLMServiceService, llmService(provides.llm, log) as unknown as UntypedServiceImplementation);
  if (provides?.embedding) add(EmbeddingServiceService, embeddingService(provides.embedding, log) as unknown as UntypedServiceImplementation);
  if (provides?.vectors) add(VectorSearchServiceService, vectorsService(provides.vectors, log) as unknown as UntypedServiceImplementation);
  if (provides?.search) add(SearchServiceService, searchService(provides.search, log) as unknown as UntypedServiceImplementation);
  return added;
}

/** The context of one call, and the trailers that carry its cost. */
function contextOf(call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>, log: Logger): { ctx: ProviderContext; trailers: () => Metadata } {
  const controller = new AbortController();
  let finished = false;
  // grpc-js emits `cancelled` when any call ends: only one before the answer is a cancellation.
  call.once("cancelled", () => !finished && controller.abort(new Error("the caller cancelled the call")));
  let usd = 0;
  const ctx: ProviderContext = {
    caller: String(call.metadata.get(CALLER_METADATA)[0] ?? ""),
    signal: controller.signal,
    log,
    cost: (amount) => {
      if (Number.isFinite(amount) && amount > 0) usd += amount;
    },
  };
  return {
    ctx,
    trailers: () => {
      finished = true;
      const metadata = new Metadata();
      if (usd > 0) metadata.set(COST_TRAILER, String(usd));
      return metadata;
    },
  };
}

/** A unary method: `work`'s answer, with the cost trailer; a throw becomes its status. */
function unary<Req, Res>(log: Logger, work: (request: Req, ctx: ProviderContext) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    const { ctx, trailers } = contextOf(call as ServerUnaryCall<unknown, unknown>, log);
    work(call.request, ctx).then(
      (answer) => callback(null, answer, trailers()),
      (error: unknown) => {
        trailers();
        callback(statusOf(error, log));
      },
    );
  };
}

function statusOf(error: unknown, log: Logger): { code: GrpcStatus; details: string } {
  if (error instanceof ProviderError) return { code: error.code, details: error.message };
  log.error("provider call failed", { err: error });
  return { code: GrpcStatus.INTERNAL, details: error instanceof Error ? error.message : String(error) };
}

function llmService(provider: LlmProvider, log: Logger) {
  const chat = async (request: LLMChatRequest, ctx: ProviderContext): Promise<LLMChatResponse> => {
    const answer = await provider.chat(request, ctx);
    return LLMChatResponse.fromPartial(typeof answer === "string" ? { content: answer } : answer);
  };
  return {
    chat: unary(log, chat),
    streamChat(call: ServerWritableStream<LLMChatRequest, LLMChatChunk>): void {
      const { ctx, trailers } = contextOf(call as ServerWritableStream<unknown, unknown>, log);
      void streamChunks(call, provider, chat, ctx).then(
        () => !ctx.signal.aborted && call.end(trailers()),
        (error: unknown) => {
          trailers();
          if (!ctx.signal.aborted) call.emit("error", statusOf(error, log));
        },
      );
    },
  };
}

/** Writes the provider's chunks as they come (waiting when the host reads slower), then the closing `done` one. */
async function streamChunks(call: ServerWritableStream<LLMChatRequest, LLMChatChunk>, provider: LlmProvider, chat: (r: LLMChatRequest, c: ProviderContext) => Promise<LLMChatResponse>, ctx: ProviderContext): Promise<void> {
  const write = async (chunk: LLMChatChunk): Promise<void> => {
    if (!call.write(chunk)) await new Promise((resolve) => call.once("drain", resolve));
  };
  if (!provider.stream) {
    const answer = await chat(call.request, ctx);
    return write(LLMChatChunk.fromPartial({ token: answer.content, done: true, model: answer.model, promptTokens: answer.promptTokens, completionTokens: answer.completionTokens, totalTokens: answer.totalTokens }));
  }
  const iterator = provider.stream(call.request, ctx)[Symbol.asyncIterator]() as AsyncIterator<string | Partial<LLMChatChunk>, Partial<LLMChatChunk> | void>;
  for (;;) {
    if (ctx.signal.aborted) {
      await iterator.return?.();
      return;
    }
    const next = await iterator.next();
    if (next.done) {
      await write(LLMChatChunk.fromPartial({ ...(next.value ?? {}), token: next.value?.token ?? "", done: true }));
      return;
    }
    const chunk = typeof next.value === "string" ? { token: next.value } : next.value;
    await write(LLMChatChunk.fromPartial(chunk));
    if (chunk.done) {
      await iterator.return?.();
      return;
    }
  }
}

function embeddingService(provider: EmbeddingProvider, log: Logger) {
  const embedOne = async (text: string, model: string, ctx: ProviderContext): Promise<EmbedResponse> => {
    const answer = await provider.embed(text, model, ctx);
    const fields = Array.isArray(answer) ? { vector: answer } : answer;
    return EmbedResponse.fromPartial({ dimensions: fields.vector?.length ?? 0, ...fields });
  };
  const unimplemented = (name: string) => (_call: unknown, callback: sendUnaryData<unknown>) => callback({ code: GrpcStatus.UNIMPLEMENTED, details: `this embedding provider has no ${name}` });
  return {
    embed: unary(log, (request: { text: string; model: string }, ctx) => embedOne(request.text, request.model, ctx)),
    batchEmbed: unary(log, async (request: { texts: string[]; model: string }, ctx) => {
      const results = [];
      for (const text of request.texts) results.push(await embedOne(text, request.model, ctx));
      return BatchEmbedResponse.fromPartial({
        results: results.map((r) => ({ vector: r.vector, tokens: r.tokens })), dimensions: results[0]?.dimensions ?? 0, model: results[0]?.model ?? "",
        totalTokens: results.reduce((sum, r) => sum + r.tokens, 0),
      });
    }),
    modelInfo: unary(log, async (request: { model: string }, ctx) => {
      if (provider.modelInfo) return ModelInfoResponse.fromPartial(await provider.modelInfo(request.model, ctx));
      const probe = await embedOne("", request.model, ctx);
      return ModelInfoResponse.fromPartial({ name: probe.model || request.model, dimensions: probe.dimensions });
    }),
    cluster: unimplemented("Cluster"),
    getLabelEligibleClusters: unimplemented("GetLabelEligibleClusters"),
    sampleClusterTexts: unimplemented("SampleClusterTexts"),
    setClusterLabel: unimplemented("SetClusterLabel"),
  };
}

function vectorsService(provider: VectorsProvider, log: Logger) {
  return {
    createIndex: unary(log, async (request: { name: string; dimensions: number }, ctx) => {
      await provider.createIndex(request.name, request.dimensions, ctx);
      return { name: request.name };
    }),
    addVectors: unary(log, async (request: { index: string; vectors: VectorEntry[] }, ctx) => {
      const added = await provider.add(request.index, request.vectors, ctx);
      return { added: typeof added === "number" ? added : request.vectors.length };
    }),
    search: unary(log, async (request: { index: string; queryVector: number[]; topK: number }, ctx) => ({
      results: await provider.search(request.index, request.queryVector, request.topK || 10, ctx),
    })),
  };
}

function searchService(provider: SearchProvider, log: Logger) {
  const parse = (bytes: Uint8Array, i: number): Record<string, unknown> => {
    try {
      return JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>;
    } catch {
      throw new ProviderError("INVALID_ARGUMENT", `document ${i} is not JSON`);
    }
  };
  return {
    search: unary(log, async (request: SearchRequest, ctx) => SearchResponse.fromPartial(await provider.search(request, ctx))),
    indexDocuments: unary(log, async (request: { index: string; documents: Uint8Array[] }, ctx) => {
      const accepted = await provider.index(request.index, request.documents.map(parse), ctx);
      return { accepted: typeof accepted === "number" ? accepted : request.documents.length };
    }),
    deleteDocuments: unary(log, async (request: { index: string; ids: string[] }, ctx) => ({ deleted: await provider.delete(request.index, request.ids, ctx) })),
    configureIndex: unary(log, async (request: ConfigureIndexRequest, ctx) => ({ accepted: provider.configure ? (await provider.configure(request, ctx)) !== false : true })),
  };
}
