/**
 * The fake host's other services, in memory, with the host's conventions: ScheduleService,
 * FileService and FetchService answer errors in the body (`invalid authentication token` for a
 * bad token); SearchService, LLMService, EmbeddingService and VectorSearchService end a call
 * with a gRPC status (UNAUTHENTICATED, NOT_FOUND, …). Deterministic stand-ins: a chat answers
 * `echo: <last user message>` unless the test sets its own answer, an embedding is a hash of
 * the text, search matches every word of the query.
 */
import { createHash, randomBytes } from "node:crypto";
import { status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import {
  EmbeddingServiceService, FetchServiceService, FileServiceService, LLMChatChunk, LLMChatResponse, LLMServiceService, ScheduleServiceService,
  SearchServiceService, VectorSearchServiceService, type LLMChatRequest, type ScheduledJob, type VectorSearchHit,
} from "@qntx/protocol";
import { INVALID_TOKEN } from "./fake-services.js";

/** A canned answer of the fake FetchService. */
export interface FakeFetchResponse {
  body: string;
  statusCode?: number;
}

/** The chat answer a test gives: text, or a function of the request. */
export type FakeChat = string | ((request: LLMChatRequest) => string);

/** The in-memory state of the fake services, which the fake host exposes to tests. */
export class FakeMesh {
  /** Every schedule created, in order (state `active`, `paused` or `deleted`), with its owner. */
  readonly schedules: Array<ScheduledJob & { owner: string }> = [];
  /** Every fetch asked for, in order. */
  readonly fetches: Array<{ url: string; source: string }> = [];
  /** Every chat request (Chat and StreamChat), in order. */
  readonly chats: LLMChatRequest[] = [];
  private readonly files = new Map<string, { mimeType: string; data: Buffer }>();
  private readonly fetchAnswers = new Map<string, FakeFetchResponse>();
  private readonly indexes = new Map<string, Map<string, Record<string, unknown>>>();
  private readonly vectorIndexes = new Map<string, Map<string, number[]>>();
  private chatAnswer: FakeChat = (request) => `echo: ${lastUserMessage(request)}`;

  constructor(private readonly sourceOf: (token: string) => string | undefined) {}

  /** Stores a file FileService can read; returns its id. */
  putFile(data: Buffer | string, mimeType = "application/octet-stream"): string {
    const id = `file-${randomBytes(6).toString("hex")}`;
    this.files.set(id, { mimeType, data: Buffer.from(data) });
    return id;
  }

  /** What FetchService answers for `url` (a URL without an answer fails the fetch, saying so). */
  setFetch(url: string, response: FakeFetchResponse): void {
    this.fetchAnswers.set(url, response);
  }

  /** What Chat and StreamChat answer from now on. */
  setChat(answer: FakeChat): void {
    this.chatAnswer = answer;
  }

  /** The documents of a search index, by id. */
  documents(index: string): Record<string, unknown>[] {
    return [...(this.indexes.get(index)?.values() ?? [])];
  }

  /** The deterministic 8-dimension vector the fake EmbeddingService gives `text`. */
  static vectorOf(text: string): number[] {
    return [...createHash("sha256").update(text).digest().subarray(0, 8)].map((b) => b / 255);
  }

  /** Forgets everything recorded and stored (answers set by the test stay). */
  clear(): void {
    this.schedules.length = 0;
    this.fetches.length = 0;
    this.chats.length = 0;
    this.files.clear();
    this.indexes.clear();
    this.vectorIndexes.clear();
  }

  /** The services, each with its grpc-js implementation. */
  services(): Array<[ServiceDefinition, UntypedServiceImplementation]> {
    return [
      [ScheduleServiceService, this.scheduleService()],
      [FileServiceService, this.fileService()],
      [FetchServiceService, this.fetchService()],
      [SearchServiceService, this.searchService()],
      [LLMServiceService, this.llmService()],
      [EmbeddingServiceService, this.embeddingService()],
      [VectorSearchServiceService, this.vectorService()],
    ];
  }

  /** A body-error method: a bad token or a throw answers `success:false`. */
  private body<Req extends { authToken: string }, E extends object>(empty: E, work: (source: string, request: Req) => Partial<E>) {
    return (call: ServerUnaryCall<Req, unknown>, callback: sendUnaryData<unknown>): void => {
      const source = this.sourceOf(call.request.authToken);
      if (source === undefined) return callback(null, { ...empty, success: false, error: INVALID_TOKEN });
      try {
        callback(null, { ...empty, ...work(source, call.request), success: true, error: "" });
      } catch (error) {
        callback(null, { ...empty, success: false, error: error instanceof Error ? error.message : String(error) });
      }
    };
  }

  /** A status method: a bad token is UNAUTHENTICATED; a thrown `[code, message]` its status. */
  private status<Req extends { authToken: string }>(work: (source: string, request: Req) => object) {
    return (call: ServerUnaryCall<Req, unknown>, callback: sendUnaryData<unknown>): void => {
      const source = this.sourceOf(call.request.authToken);
      if (source === undefined) return callback({ code: status.UNAUTHENTICATED, details: INVALID_TOKEN });
      try {
        callback(null, work(source, call.request));
      } catch (error) {
        const [code, details] = Array.isArray(error) ? (error as [status, string]) : [status.INTERNAL, String(error)];
        callback({ code, details });
      }
    };
  }

  private scheduleService(): UntypedServiceImplementation {
    const own = (source: string, id: string): ScheduledJob & { owner: string } => {
      const found = this.schedules.find((s) => s.id === id);
      if (!found) throw new Error(`no schedule with id ${id}`);
      if (source && found.owner !== source) throw new Error(`PERMISSION_DENIED: plugin ${source} may not touch schedule ${id}: it belongs to plugin ${found.owner}`);
      return found;
    };
    const move = (state: string) => this.body({}, (source, request: { authToken: string; scheduleId: string }) => {
      own(source, request.scheduleId).state = state;
      return {};
    });
    return {
      createSchedule: this.body({ scheduleId: "" }, (source, request: { authToken: string; handlerName: string; intervalSeconds: number; payload: Uint8Array; metadata: Record<string, string> }) => {
        if (!request.handlerName) throw new Error("handler_name is required");
        if (request.intervalSeconds < 1) throw new Error(`interval_seconds must be a whole number of seconds >= 1, got ${request.intervalSeconds}`);
        const now = new Date().toISOString();
        const id = `sched-${randomBytes(8).toString("hex")}`;
        this.schedules.push({
          id, owner: source, atsCode: "", handlerName: request.handlerName.includes("/") || !source ? request.handlerName : `${source}/${request.handlerName}`,
          payload: Buffer.from(request.payload), sourceUrl: "", intervalSeconds: request.intervalSeconds, nextRunAt: now, lastRunAt: "", lastExecutionId: "",
          state: "active", metadata: Object.keys(request.metadata).length ? JSON.stringify(request.metadata) : "", createdAt: now, updatedAt: now, createdFromDoc: "",
        });
        return { scheduleId: id };
      }),
      pauseSchedule: move("paused"),
      resumeSchedule: move("active"),
      deleteSchedule: move("deleted"),
      getSchedule: this.body({ job: undefined as ScheduledJob | undefined }, (source, request: { authToken: string; scheduleId: string }) => {
        const { owner: _owner, ...job } = own(source, request.scheduleId);
        return { job };
      }),
    };
  }

  private fileService(): UntypedServiceImplementation {
    return {
      readFileBase64: this.body({ mimeType: "", base64Data: "" }, (_source, request: { authToken: string; fileId: string }) => {
        const file = this.files.get(request.fileId);
        if (!file) throw new Error(`file not found: ${request.fileId}`);
        return { mimeType: file.mimeType, base64Data: file.data.toString("base64") };
      }),
    };
  }

  private fetchService(): UntypedServiceImplementation {
    return {
      fetch: this.body({ body: "", statusCode: 0, attestationId: "" }, (source, request: { authToken: string; url: string }) => {
        this.fetches.push({ url: request.url, source });
        const answer = this.fetchAnswers.get(request.url);
        if (!answer) throw new Error(`the fake host has no answer for ${request.url} (give one with host.setFetch(url, { body }))`);
        return { body: answer.body, statusCode: answer.statusCode ?? 200 };
      }),
    };
  }

  private searchService(): UntypedServiceImplementation {
    const index = (name: string, create: boolean): Map<string, Record<string, unknown>> => {
      let docs = this.indexes.get(name);
      if (!docs) {
        if (!create) throw [status.NOT_FOUND, `no search index named "${name}"`];
        this.indexes.set(name, (docs = new Map()));
      }
      return docs;
    };
    return {
      indexDocuments: this.status((_s, request: { authToken: string; index: string; documents: Uint8Array[] }) => {
        const docs = index(request.index, true);
        for (const bytes of request.documents) {
          const doc = JSON.parse(Buffer.from(bytes).toString("utf8")) as Record<string, unknown>;
          if (doc.id === undefined) throw [status.INVALID_ARGUMENT, 'a document has no primary key "id"'];
          docs.set(String(doc.id), doc);
        }
        return { accepted: request.documents.length };
      }),
      deleteDocuments: this.status((_s, request: { authToken: string; index: string; ids: string[] }) => {
        const docs = index(request.index, false);
        return { deleted: request.ids.filter((id) => docs.delete(id)).length };
      }),
      configureIndex: this.status((_s, request: { authToken: string; index: string }) => {
        index(request.index, true);
        return { accepted: true };
      }),
      search: this.status((_s, request: { authToken: string; index: string; query: string; topK: number }) => {
        const words = request.query.toLowerCase().split(/\s+/).filter(Boolean);
        const hits = [...index(request.index, false).values()]
          .filter((doc) => words.every((w) => JSON.stringify(doc).toLowerCase().includes(w)))
          .map((doc) => ({ id: String(doc.id), score: 1, document: Buffer.from(JSON.stringify(doc)), highlighted: Buffer.alloc(0) }));
        return { hits: hits.slice(0, request.topK || 20), total: hits.length, processingMs: 0, facetDistribution: Buffer.alloc(0) };
      }),
    };
  }

  private llmService(): UntypedServiceImplementation {
    const answer = (request: LLMChatRequest): string => {
      this.chats.push(request);
      return typeof this.chatAnswer === "string" ? this.chatAnswer : this.chatAnswer(request);
    };
    return {
      chat: this.status((_s, request: LLMChatRequest) => {
        const content = answer(request);
        return LLMChatResponse.fromPartial({ content, model: "fake", completionTokens: words(content), totalTokens: words(content) });
      }),
      streamChat: (call: ServerWritableStream<LLMChatRequest, LLMChatChunk>) => {
        if (this.sourceOf(call.request.authToken) === undefined) return call.emit("error", { code: status.UNAUTHENTICATED, details: INVALID_TOKEN });
        const tokens = answer(call.request).split(/(?<= )/);
        tokens.forEach((token, i) => call.write(LLMChatChunk.fromPartial({ token, model: "fake", done: i === tokens.length - 1, ...(i === tokens.length - 1 ? { totalTokens: tokens.length } : {}) })));
        call.end();
      },
    };
  }

  private embeddingService(): UntypedServiceImplementation {
    return {
      embed: this.status((_s, request: { authToken: string; text: string }) => {
        if (!request.text) throw [status.INVALID_ARGUMENT, "text cannot be empty"];
        return { vector: FakeMesh.vectorOf(request.text), dimensions: 8, model: "fake-hash", tokens: words(request.text) };
      }),
      batchEmbed: this.status((_s, request: { authToken: string; texts: string[] }) => ({
        results: request.texts.map((t) => ({ vector: FakeMesh.vectorOf(t), tokens: words(t) })), dimensions: 8, model: "fake-hash", totalTokens: request.texts.length,
      })),
      modelInfo: this.status(() => ({ name: "fake-hash", dimensions: 8, maxSequenceLength: 512 })),
    };
  }

  private vectorService(): UntypedServiceImplementation {
    const index = (name: string): Map<string, number[]> => {
      const found = this.vectorIndexes.get(name);
      if (!found) throw [status.NOT_FOUND, `no vector index named "${name}"`];
      return found;
    };
    return {
      createIndex: this.status((_s, request: { authToken: string; name: string }) => {
        if (!this.vectorIndexes.has(request.name)) this.vectorIndexes.set(request.name, new Map());
        return { name: request.name };
      }),
      addVectors: this.status((_s, request: { authToken: string; index: string; vectors: Array<{ id: string; vector: number[] }> }) => {
        const vectors = index(request.index);
        for (const v of request.vectors) vectors.set(v.id, v.vector);
        return { added: request.vectors.length };
      }),
      search: this.status((_s, request: { authToken: string; index: string; queryVector: number[]; topK: number }) => {
        const results: VectorSearchHit[] = [...index(request.index)]
          .map(([id, v]) => ({ id, distance: Math.sqrt(v.reduce((sum, x, i) => sum + (x - (request.queryVector[i] ?? 0)) ** 2, 0)) }))
          .sort((a, b) => a.distance - b.distance)
          .slice(0, request.topK || 10);
        return { results };
      }),
    };
  }
}

function lastUserMessage(request: LLMChatRequest): string {
  return [...request.messages].reverse().find((m) => m.role === "user")?.content ?? request.userPrompt;
}

function words(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}
