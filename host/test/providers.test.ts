/**
 * Services routed to provider plugins (LLMService, EmbeddingService, VectorSearchService),
 * through real plugin processes: a caller plugin calls the host with its own token, the host
 * forwards to a provider plugin. Covers the endpoints InitializeRequest carries, the caller's
 * identity reaching the provider without its token, bad tokens, grants, no provider, two
 * providers, deadlines and cancellation, streaming, and the roles the API shows.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { execa } from "execa";
import { adminHeaders, CLI, http, startTestHost, until, type TestHost } from "./harness.js";
import { pluginInState } from "./helpers/events.js";
import { callService, callerTable, providerTable } from "./helpers/mesh.js";

const chat = (text: string, extra: object = {}) => ({ messages: [{ role: "user", content: text }], ...extra });

describe("one LLM provider", () => {
  let t: TestHost;
  beforeAll(async () => {
    t = await startTestHost([
      callerTable("caller"),
      callerTable("limited", 'services = ["ats"]'),
      providerTable("brain", { roles: "llm,embedding,vector_search", cost: "0.01" }),
      providerTable("slowpoke", { roles: "embedding", mode: "slow", "delay-ms": 5000 }),
    ].join("\n"), {}, ['providers = { embedding = "brain" }']);
  });
  afterAll(async () => t?.close());

  it("fills every endpoint of InitializeRequest but Ground's with the services address", async () => {
    const init = (await http(`${t.url}/api/caller/endpoints`)).json();
    for (const field of ["atsStoreEndpoint", "queueEndpoint", "scheduleEndpoint", "fileServiceEndpoint", "llmEndpoint", "embeddingEndpoint", "vectorSearchEndpoint", "searchEndpoint", "fetchEndpoint"]) {
      expect(init[field]).toBe(t.host.servicesAddress);
    }
    expect(init.groundEndpoint).toBe("");
    expect(init.authToken).toBe("set");
  });

  it("routes Chat to the provider, which learns the caller but never its token", async () => {
    const result = await callService(t.url, "caller", "LLMService", "Chat", chat("hello there"));
    expect(result).toMatchObject({ ok: true, response: { content: "brain: hello there (caller=caller, token=none)", model: "brain-model" } });
    expect(result.response.totalTokens).toBeGreaterThan(0);
    const seen = (await http(`${t.url}/api/brain/seen`)).json();
    expect(seen.callers).toContain("caller");
    expect(seen.tokens.every((token: string) => token === "")).toBe(true);
  });

  it("streams StreamChat's chunks through, the last one done with the usage", async () => {
    const result = await callService(t.url, "caller", "LLMService", "StreamChat", chat("one two three four"), { stream: true });
    expect(result.ok).toBe(true);
    const chunks = result.chunks!.map((c) => c.message);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.map((c) => c.token).join("")).toBe("brain: one two three four (caller=caller, token=none)");
    expect(chunks.at(-1)).toMatchObject({ done: true, model: "brain-model" });
    expect(chunks.slice(0, -1).every((c) => !c.done)).toBe(true);
  });

  it("refuses a bad or missing token with UNAUTHENTICATED, before any provider sees it", async () => {
    const before = (await http(`${t.url}/api/brain/seen`)).json().calls;
    expect(await callService(t.url, "caller", "LLMService", "Chat", chat("x"), { token: "forged" })).toMatchObject({ ok: false, code: "UNAUTHENTICATED", details: "invalid authentication token" });
    expect(await callService(t.url, "caller", "EmbeddingService", "Embed", { text: "x" }, { token: "" })).toMatchObject({ ok: false, code: "UNAUTHENTICATED" });
    expect((await http(`${t.url}/api/brain/seen`)).json().calls).toBe(before);
  });

  it("refuses a plugin whose services grant leaves the service out", async () => {
    const result = await callService(t.url, "limited", "LLMService", "Chat", chat("x"));
    expect(result).toMatchObject({ ok: false, code: "PERMISSION_DENIED" });
    expect(result.details).toContain('call the llm service: its grant is services = ["ats"]');
  });

  it("routes embeddings and vector search to the provider", async () => {
    const embedded = await callService(t.url, "caller", "EmbeddingService", "Embed", { text: "a cat" });
    expect(embedded).toMatchObject({ ok: true, response: { dimensions: 8, model: "brain-hash" } });
    expect(embedded.response.vector).toHaveLength(8);
    expect(await callService(t.url, "caller", "VectorSearchService", "CreateIndex", { name: "pets", dimensions: 8 })).toMatchObject({ ok: true, response: { name: "pets" } });
    const other = (await callService(t.url, "caller", "EmbeddingService", "Embed", { text: "a dog" })).response.vector;
    expect(await callService(t.url, "caller", "VectorSearchService", "AddVectors", { index: "pets", vectors: [{ id: "cat", vector: embedded.response.vector }, { id: "dog", vector: other }] }))
      .toMatchObject({ ok: true, response: { added: 2 } });
    const found = await callService(t.url, "caller", "VectorSearchService", "Search", { index: "pets", queryVector: embedded.response.vector, topK: 1 });
    expect(found.response.results).toEqual([{ id: "cat", distance: 0 }]);
  });

  it("passes the provider's error status through, naming the provider", async () => {
    const result = await callService(t.url, "caller", "VectorSearchService", "AddVectors", { index: "nowhere", vectors: [{ id: "x", vector: [1] }] });
    expect(result).toMatchObject({ ok: false, code: "NOT_FOUND", details: "provider brain: no index nowhere" });
  });

  it("records each routed call's reported cost and tokens in the usage record", async () => {
    const budget = (await http(`${t.url}/api/pulse/budget`)).json();
    const calls = budget.recent.filter((r: { kind: string; provider: string }) => r.kind === "call" && r.provider === "brain");
    expect(calls.length).toBeGreaterThan(0);
    expect(calls[0]).toMatchObject({ plugin: "caller", costUsd: 0.01 });
    expect(calls.some((r: { name: string; totalTokens: number }) => r.name === "llm/Chat" && r.totalTokens > 0)).toBe(true);
    expect(budget.windows.map((w: { window: string; limitUsd: null }) => [w.window, w.limitUsd])).toEqual([["daily", null], ["weekly", null], ["monthly", null]]);
  });

  it("shows each plugin's roles and every service with its provider", async () => {
    const plugins = (await http(`${t.url}/api/plugins`)).json().plugins as Array<{ name: string; roles: string[] }>;
    expect(plugins.find((p) => p.name === "brain")!.roles).toEqual(["llm-provider", "embedding-provider", "vector-search-provider"]);
    expect(plugins.find((p) => p.name === "caller")!.roles).toEqual([]);
    const listed = await execa(process.execPath, [CLI, "--data-dir", join(t.dir, "data"), "plugin", "list"], { reject: false });
    expect(listed.stdout).toMatch(/^NAME\s+STATE\s+.*\s+ROLES$/m);
    expect(listed.stdout).toMatch(/^brain\s+running\s+.*\s+llm-provider,embedding-provider,vector-search-provider$/m);
    const { services } = (await http(`${t.url}/api/plugins/services`)).json();
    const by = (name: string) => services.find((s: { service: string }) => s.service === name);
    expect(by("protocol.LLMService")).toMatchObject({ endpoint: t.host.servicesAddress, provider: "brain", chosenBy: "first to start", candidates: ["brain"], providerState: "running" });
    expect(by("protocol.EmbeddingService")).toMatchObject({ provider: "brain", chosenBy: "config" });
    expect(by("protocol.EmbeddingService").candidates.sort()).toEqual(["brain", "slowpoke"]);
    expect(by("protocol.SearchService")).toMatchObject({ servedBy: "host (built-in index)", provider: null });
    expect(by("protocol.GroundService")).toMatchObject({ endpoint: "" });
    expect(by("protocol.FileService")).toMatchObject({ servedBy: "host" });
  });
});

describe("no provider, two providers, a slow one", () => {
  let t: TestHost;
  beforeAll(async () => {
    t = await startTestHost([
      callerTable("caller"),
      providerTable("first", { roles: "llm" }),
      providerTable("second", { roles: "llm,vector_search", mode: "slow", "delay-ms": 10000 }),
    ].join("\n"));
  });
  afterAll(async () => t?.close());

  it("answers UNAVAILABLE at once, naming the flag to set, when no plugin provides the service", async () => {
    const result = await callService(t.url, "caller", "EmbeddingService", "Embed", { text: "x" });
    expect(result).toMatchObject({ ok: false, code: "UNAVAILABLE" });
    expect(result.details).toContain("embedding_provider");
  });

  it("warns naming both when two plugins provide one service; the first to start wins", async () => {
    const warning = t.logs.find((l) => typeof l.msg === "string" && l.msg.startsWith("two plugins provide llm"));
    expect(warning).toBeDefined();
    const chosen = (warning!.providers as string[])[0]!;
    expect(warning!.msg).toContain("first");
    expect(warning!.msg).toContain("second");
    expect(warning!.msg).toContain("[host] providers");
    const result = await callService(t.url, "caller", "LLMService", "Chat", chat("who"));
    expect(result.response.content.startsWith(`${chosen}:`)).toBe(true);
  });

  it("routes to a provider the request names, as QNTX's LLMChatRequest.provider does", async () => {
    const result = await callService(t.url, "caller", "LLMService", "Chat", chat("named", { provider: "first" }));
    expect(result.response.content).toBe("first: named (caller=caller, token=none)");
  });

  it("ends a call at the caller's deadline, and the provider sees it cancelled", async () => {
    const before = (await http(`${t.url}/api/second/seen`)).json().cancelled;
    const result = await callService(t.url, "caller", "LLMService", "Chat", chat("slow", { provider: "second" }), { timeoutMs: 500 });
    expect(result).toMatchObject({ ok: false, code: "DEADLINE_EXCEEDED" });
    await until(async () => ((await http(`${t.url}/api/second/seen`)).json().cancelled > before ? true : undefined), "the provider to see the call cancelled");
  });
});

describe("a provider that crashes or pauses", () => {
  let t: TestHost;
  beforeAll(async () => {
    t = await startTestHost([
      callerTable("caller"),
      providerTable("crashy", { roles: "llm", mode: "crash-mid-stream", "crash-after": 3, "chunk-ms": 50 }),
    ].join("\n"), { restart_backoff_base_ms: 100 });
  });
  afterAll(async () => t?.close());

  it("cuts a stream with UNAVAILABLE when the provider crashes mid-stream, and routes again once it is back", async () => {
    const result = await callService(t.url, "caller", "LLMService", "StreamChat", chat("a b c d e f g h"), { stream: true, timeoutMs: 20_000 });
    expect(result).toMatchObject({ ok: false, code: "UNAVAILABLE" });
    expect(result.chunks!.length).toBe(3);
    await pluginInState(t.host.registry, "crashy", "running");
    const again = await callService(t.url, "caller", "LLMService", "Chat", chat("back"));
    expect(again).toMatchObject({ ok: true, response: { content: "crashy: back (caller=caller, token=none)" } });
  });

  it("answers UNAVAILABLE at once while the provider is paused, and routes again on resume", async () => {
    expect((await http(`${t.url}/api/plugins/crashy/pause`, { method: "POST", headers: adminHeaders(t) })).status).toBe(200);
    const paused = await callService(t.url, "caller", "LLMService", "Chat", chat("x"), { timeoutMs: 20_000 });
    expect(paused).toMatchObject({ ok: false, code: "UNAVAILABLE" });
    expect(paused.details).toContain("crashy is paused");
    expect((await http(`${t.url}/api/plugins/crashy/resume`, { method: "POST", headers: adminHeaders(t) })).status).toBe(200);
    expect(await callService(t.url, "caller", "LLMService", "Chat", chat("resumed"))).toMatchObject({ ok: true });
  });
});
