/**
 * SearchService through real plugin processes: the host's built-in full-text index (SQLite
 * FTS5) while no plugin sets search_provider — indexing, ranking, filters, facets, highlights,
 * index ownership — and a search provider plugin taking over once it runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { adminHeaders, http, startTestHost, type TestHost } from "./harness.js";
import { pluginInState } from "./helpers/events.js";
import { callService, callerTable, providerTable } from "./helpers/mesh.js";

let t: TestHost;
const doc = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64");
const search = (caller: string, method: string, request: object, token?: string) => callService(t.url, caller, "SearchService", method, request, { token });
const parse = (base64: string) => (base64 ? JSON.parse(Buffer.from(base64, "base64").toString()) : undefined);

beforeAll(async () => {
  t = await startTestHost([callerTable("indexer"), callerTable("reader"), providerTable("meili", { roles: "search" }, "auto_start = false")].join("\n"));
});
afterAll(async () => t?.close());

describe("the built-in index", () => {
  it("indexes documents and finds them by every word, best first, with highlights", async () => {
    const indexed = await search("indexer", "IndexDocuments", {
      index: "notes",
      documents: [
        doc({ id: "n1", title: "The quick brown fox", tag: "animals", body: "jumps over the lazy dog" }),
        doc({ id: "n2", title: "Quick notes", tag: "work", body: "a quick quick reminder about quarterly reports" }),
        doc({ id: 3, title: "Slow things", tag: "animals", body: "snails and sloths" }),
      ],
    });
    expect(indexed).toMatchObject({ ok: true, response: { accepted: 3 } });
    const found = (await search("reader", "Search", { index: "notes", query: "quick" })).response;
    expect(found.total).toBe(2);
    expect(found.hits.map((h: { id: string }) => h.id).sort()).toEqual(["n1", "n2"]);
    expect(found.hits[0].score).toBeGreaterThan(0);
    expect(found.hits[0].score).toBeGreaterThanOrEqual(found.hits[1].score);
    const n1 = found.hits.find((h: { id: string }) => h.id === "n1");
    expect(parse(n1.document)).toMatchObject({ id: "n1", tag: "animals" });
    expect(parse(n1.highlighted)).toEqual({ title: "The <em>quick</em> brown fox" });
    expect((await search("reader", "Search", { index: "notes", query: "quick lazy" })).response.hits.map((h: { id: string }) => h.id)).toEqual(["n1"]);
    expect((await search("reader", "Search", { index: "notes", query: "quar" })).response.hits.map((h: { id: string }) => h.id)).toEqual(["n2"]);
  });

  it("filters, counts facets, limits with top_k and lists everything for an empty query", async () => {
    const animals = (await search("reader", "Search", { index: "notes", query: "", filters: doc({ tag: "animals" }), facets: ["tag"] })).response;
    expect(animals.hits.map((h: { id: string }) => h.id)).toEqual(["n1", "3"]);
    expect(parse(animals.facetDistribution)).toEqual({ tag: { animals: 2 } });
    const all = (await search("reader", "Search", { index: "notes", query: "", topK: 1, facets: ["tag"] })).response;
    expect(all).toMatchObject({ total: 3 });
    expect(all.hits).toHaveLength(1);
    expect(parse(all.facetDistribution)).toEqual({ tag: { animals: 2, work: 1 } });
  });

  it("lets only the index's owner change it, and says so", async () => {
    const refused = await search("reader", "IndexDocuments", { index: "notes", documents: [doc({ id: "x" })] });
    expect(refused).toMatchObject({ ok: false, code: "PERMISSION_DENIED", details: "index notes belongs to plugin indexer: plugin reader may search it, not change it" });
    expect(await search("reader", "DeleteDocuments", { index: "notes", ids: ["n1"] })).toMatchObject({ ok: false, code: "PERMISSION_DENIED" });
    expect(await search("indexer", "DeleteDocuments", { index: "notes", ids: ["n1", "nope"] })).toMatchObject({ ok: true, response: { deleted: 1 } });
    expect((await search("reader", "Search", { index: "notes", query: "fox" })).response.total).toBe(0);
  });

  it("searches only the configured attributes once ConfigureIndex names them", async () => {
    expect(await search("indexer", "ConfigureIndex", { index: "notes", searchableAttributes: ["title"], filterableAttributes: ["tag"] })).toMatchObject({ ok: true, response: { accepted: true } });
    expect((await search("reader", "Search", { index: "notes", query: "reminder" })).response.total).toBe(0);
    expect((await search("reader", "Search", { index: "notes", query: "notes" })).response.total).toBe(1);
    const badFilter = await search("reader", "Search", { index: "notes", query: "", filters: doc({ body: "x" }) });
    expect(badFilter).toMatchObject({ ok: false, code: "INVALID_ARGUMENT", details: 'field "body" is not filterable (filterable_attributes: tag)' });
  });

  it("refuses bad input, an unknown index and a bad token with their statuses", async () => {
    expect(await search("indexer", "IndexDocuments", { index: "notes", documents: [doc({ title: "no id" })] })).toMatchObject({ ok: false, code: "INVALID_ARGUMENT", details: 'document 0 has no primary key "id" (a non-empty string or a number)' });
    expect(await search("indexer", "IndexDocuments", { index: "notes", documents: [Buffer.from("not json").toString("base64")] })).toMatchObject({ ok: false, code: "INVALID_ARGUMENT" });
    expect(await search("reader", "Search", { index: "nowhere", query: "x" })).toMatchObject({ ok: false, code: "NOT_FOUND" });
    expect(await search("reader", "Search", { index: "notes", query: "x" }, "forged")).toMatchObject({ ok: false, code: "UNAUTHENTICATED" });
  });
});

describe("a search provider plugin", () => {
  it("takes over every search call once it has announced search_provider", async () => {
    expect((await http(`${t.url}/api/plugins/meili/start`, { method: "POST", headers: adminHeaders(t) })).status).toBe(200);
    await pluginInState(t.host.registry, "meili", "running");
    const found = (await search("reader", "Search", { index: "notes", query: "anything" })).response;
    expect(found.hits).toHaveLength(1);
    expect(parse(found.hits[0].document)).toEqual({ id: "p1", provider: "meili", query: "anything" });
    const { services } = (await http(`${t.url}/api/plugins/services`)).json();
    expect(services.find((s: { service: string }) => s.service === "protocol.SearchService")).toMatchObject({ servedBy: "provider", provider: "meili" });
  });
});
