/**
 * The SDK's clients of the host services on every context (`ctx.schedule`, `ctx.files`,
 * `ctx.fetch`, `ctx.search`, `ctx.llm`, `ctx.embedding`, `ctx.vectors`), against the fake host
 * of `@qntx/sdk/testing`, and `provides` in definePlugin: the provider services served on the
 * plugin's own port, as the host forwards calls to them.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import * as grpc from "@grpc/grpc-js";
import { CALLER_METADATA, COST_TRAILER, EmbeddingServiceClient, LLMChatRequest, LLMServiceClient, SearchServiceClient, type LLMChatChunk } from "@qntx/protocol";
import { definePlugin, HostServiceError, ProviderError, startPlugin, type PluginHandle } from "../src/index.js";
import { FakeMesh, startTestPlugin } from "../src/testing/index.js";

const consumer = definePlugin({
  metadata: { name: "consumer", version: "0.1.0" },
  routes: {
    "POST /ask": async (req, ctx) => ({ answer: (await ctx.llm!.chat(req.text())).content }),
    "POST /stream": async (req, ctx) => {
      const tokens: string[] = [];
      for await (const chunk of ctx.llm!.stream(req.text())) tokens.push(chunk.token);
      return { tokens };
    },
    "GET /file/:id": async (req, ctx) => {
      const file = await ctx.files!.read(req.params.id!);
      return { mime: file.mimeType, text: file.data.toString() };
    },
    "POST /fetch": async (req, ctx) => ctx.fetch!.fetch(req.text()),
  },
  handlers: {
    remember: async (payload, ctx) => {
      const { text } = payload as { text: string };
      const { vector } = await ctx.embedding!.embed(text);
      await ctx.vectors!.createIndex("memory", vector.length);
      await ctx.vectors!.add("memory", [{ id: text, vector }]);
      await ctx.search!.index("notes", [{ id: text, text }]);
      const scheduleId = await ctx.schedule!.create({ handler: "remember", intervalSeconds: 60, payload: { text } });
      return { scheduleId, near: await ctx.vectors!.search("memory", vector, 1), found: (await ctx.search!.search({ index: "notes", query: text })).total };
    },
  },
  commands: {
    ask: { run: async (args, _flags, ctx) => (await ctx.llm!.chat(args.join(" "))).content },
  },
});

describe("host service clients on the contexts, against the fake host", () => {
  it("routes, jobs and commands reach every service", async () => {
    await using plugin = await startTestPlugin(consumer);
    const host = plugin.host!;
    host.mesh.setChat((request) => `you said ${request.messages.at(-1)!.content}`);
    expect((await plugin.http("POST", "/ask", { body: "hi" })).json()).toEqual({ answer: "you said hi" });
    expect((await plugin.http("POST", "/stream", { body: "one two" })).json()).toEqual({ tokens: ["you ", "said ", "one ", "two"] });
    expect(host.mesh.chats).toHaveLength(2);

    const id = host.mesh.putFile("file body", "text/plain");
    expect((await plugin.http("GET", `/file/${id}`)).json()).toEqual({ mime: "text/plain", text: "file body" });
    expect((await plugin.http("GET", "/file/nope")).json<{ error: string }>().error).toBe("file not found: nope");

    host.mesh.setFetch("https://example.org/", { body: "<html>" });
    expect((await plugin.http("POST", "/fetch", { body: "https://example.org/" })).json()).toMatchObject({ body: "<html>", statusCode: 200 });
    expect(host.mesh.fetches).toEqual([{ url: "https://example.org/", source: "consumer" }]);

    const run = await plugin.job("remember", { text: "a cat" });
    expect(run.success).toBe(true);
    expect(run.result).toMatchObject({ near: [{ id: "a cat", distance: 0 }], found: 1 });
    expect(host.mesh.schedules).toEqual([expect.objectContaining({ id: (run.result as { scheduleId: string }).scheduleId, owner: "consumer", handlerName: "consumer/remember", state: "active" })]);
    expect(host.mesh.documents("notes")).toEqual([{ id: "a cat", text: "a cat" }]);
    expect(FakeMesh.vectorOf("a cat")).toHaveLength(8);

    host.mesh.setChat("fixed");
    expect((await plugin.command("ask", ["anything"])).text()).toBe("fixed");
  });

  it("turns a refusal into a HostServiceError with the status", async () => {
    await using plugin = await startTestPlugin(definePlugin({
      metadata: { name: "prober", version: "0.1.0" },
      routes: {
        "GET /probe": async (_req, ctx) => {
          try {
            await ctx.vectors!.search("missing", [0], 1);
            return { ok: true };
          } catch (error) {
            return { code: (error as HostServiceError).code, grpc: (error as HostServiceError).grpcCode, message: (error as Error).message };
          }
        },
      },
    }));
    expect((await plugin.http("GET", "/probe")).json()).toEqual({ code: "HOST_CALL_FAILED", grpc: grpc.status.NOT_FOUND, message: 'VectorSearchService/Search failed: NOT_FOUND: no vector index named "missing"' });
  });
});

describe("provides: a provider plugin", () => {
  let handle: PluginHandle;
  let llm: LLMServiceClient;
  let embedding: EmbeddingServiceClient;
  let search: SearchServiceClient;
  beforeAll(async () => {
    handle = await startPlugin(definePlugin({
      metadata: { name: "brain", version: "0.1.0" },
      provides: {
        llm: {
          chat: (request, ctx) => {
            ctx.cost(0.002);
            return `hello ${ctx.caller}: ${request.messages.at(-1)?.content ?? ""}`;
          },
          async *stream(request, ctx) {
            for (const word of (request.messages.at(-1)?.content ?? "").split(" ")) yield `${word} `;
            ctx.cost(0.001);
            return { totalTokens: 7, model: "stub" };
          },
        },
        embedding: { embed: (text) => [text.length, 1] },
        search: {
          search: () => { throw new ProviderError("NOT_FOUND", "no such index"); },
          index: () => undefined,
          delete: () => 0,
        },
      },
    }));
    llm = new LLMServiceClient(handle.address, grpc.credentials.createInsecure());
    embedding = new EmbeddingServiceClient(handle.address, grpc.credentials.createInsecure());
    search = new SearchServiceClient(handle.address, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    llm?.close();
    embedding?.close();
    search?.close();
    await handle?.close({ force: true });
  });

  const caller = (): grpc.Metadata => {
    const metadata = new grpc.Metadata();
    metadata.set(CALLER_METADATA, "consumer");
    return metadata;
  };

  it("announces the flags of what it provides", async () => {
    const { PluginClient } = await import("@qntx/protocol");
    const client = new PluginClient(handle.address);
    const init = await client.initialize({ atsStoreEndpoint: "", queueEndpoint: "", authToken: "", config: {}, scheduleEndpoint: "", fileServiceEndpoint: "", llmEndpoint: "", embeddingEndpoint: "", vectorSearchEndpoint: "", groundEndpoint: "", searchEndpoint: "", fetchEndpoint: "" }, { deadline: Date.now() + 5000 });
    client.close();
    expect(init).toMatchObject({ llmProvider: true, embeddingProvider: true, searchProvider: true, vectorSearchProvider: false });
  });

  it("answers Chat with the caller's name, and its cost in the trailer", async () => {
    let trailer: string | undefined;
    const answer = await new Promise<{ content: string }>((resolve, reject) => {
      const call = llm.chat(LLMChatRequest.fromPartial({ messages: [{ role: "user", content: "hi" }] }), caller(), (error, res) => (error ? reject(error) : resolve(res)));
      call.on("status", (s) => (trailer = s.metadata.get(COST_TRAILER)[0] as string));
    });
    expect(answer.content).toBe("hello consumer: hi");
    await new Promise((resolve) => setImmediate(resolve));
    expect(trailer).toBe("0.002");
  });

  it("streams yielded tokens, then a done chunk with the returned usage", async () => {
    const chunks: LLMChatChunk[] = [];
    const stream = llm.streamChat(LLMChatRequest.fromPartial({ messages: [{ role: "user", content: "a b c" }] }), caller());
    const cost = new Promise<string>((resolve) => stream.on("status", (s) => resolve(s.metadata.get(COST_TRAILER)[0] as string)));
    for await (const chunk of stream) chunks.push(chunk as LLMChatChunk);
    expect(chunks.map((c) => c.token)).toEqual(["a ", "b ", "c ", ""]);
    expect(chunks.at(-1)).toMatchObject({ done: true, totalTokens: 7, model: "stub" });
    expect(await cost).toBe("0.001");
  });

  it("answers embeddings, and a ProviderError with its status", async () => {
    const embedded = await new Promise<{ vector: number[]; dimensions: number }>((resolve, reject) =>
      embedding.embed({ authToken: "", text: "abc", model: "" }, (error, res) => (error ? reject(error) : resolve(res))));
    expect(embedded).toMatchObject({ vector: [3, 1], dimensions: 2 });
    const error = await new Promise<grpc.ServiceError>((resolve) =>
      search.search({ query: "x", index: "i", topK: 1, filters: Buffer.alloc(0), facets: [], authToken: "" }, (e) => resolve(e!)));
    expect(error).toMatchObject({ code: grpc.status.NOT_FOUND, details: "no such index" });
  });

  it("refuses a provider without its methods at definition time", () => {
    expect(() => definePlugin({ metadata: { name: "x", version: "1" }, provides: { llm: {} as never } })).toThrow("provides.llm.chat must be a function");
    expect(() => definePlugin({ metadata: { name: "x", version: "1" }, provides: { chat: {} } as never })).toThrow("provides.chat: unknown service (known: llm, embedding, vectors, search)");
  });
});
