/**
 * Behaviour QNTX plugins rely on, through a real host and real plugin processes:
 * - attestations generated without actors are their own actor (self-certifying), on every
 *   path that generates one; the deprecated CreateAttestation stores what it is given;
 * - request header names reach plugins as QNTX's Go proxy sends them (canonical, no Host);
 * - `GET /api/plugins/glyphs` lists every running plugin's glyphs in QNTX's JSON shape.
 * Bun's `import.meta.dir` and top-level await in QNTX TypeScript plugins are tested with the
 * runner in sdk/test/qntx-runner-bun.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { GENERATED_ID_PATTERN } from "@qntx/protocol";
import { adminHeaders, fakePluginTable, http, startTestHost, type TestHost } from "./harness.js";
import { pluginInState } from "./helpers/events.js";

const ATS_PLUGIN = fileURLToPath(new URL("./fixtures/ats-plugin.mjs", import.meta.url));
/** The example QNTX-format plugin (examples/qntx-module): it offers one glyph. */
const BOOKMARKS = fileURLToPath(new URL("../../examples/qntx-module", import.meta.url));

const OVEN = [{ symbol: "🔥", title: "Oven", label: "Open the oven", contentPath: "/oven", cssPath: "/oven.css", modulePath: "/oven.js", defaultWidth: 640, defaultHeight: 480 }, { symbol: "⏱", title: "Timer", contentPath: "/timer" }];

let t: TestHost;

beforeAll(async () => {
  t = await startTestHost(
    `[plugins.ats]\nbinary = ${JSON.stringify(ATS_PLUGIN)}\n\n` +
      `[plugins.bookmarks]\nbinary = ${JSON.stringify(BOOKMARKS)}\n\n` +
      `[plugins.clock]\nbuiltin = "clock"\n\n` +
      fakePluginTable("hdrs", "ok") +
      fakePluginTable("oven", "ok", ["--glyphs", JSON.stringify(OVEN)]) +
      fakePluginTable("unimpl", "ok", ["--glyphs", "unimplemented"]) +
      fakePluginTable("broken", "ok", ["--glyphs", "fail"]) +
      fakePluginTable("slow", "ok", ["--glyphs", "hang"]) +
      fakePluginTable("parked", "ok", ["--glyphs", JSON.stringify(OVEN)]),
    { initialize_timeout_ms: 15000 },
  );
}, 60_000);

afterAll(async () => {
  await t?.close();
});

/** POSTs JSON to a plugin route of the ats plugin and returns the JSON answer (status 200 expected). */
async function ats(path: string, body: unknown): Promise<any> {
  const res = await http(`${t.url}/api/ats${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`POST /api/ats${path} answered ${res.status}: ${res.text}`);
  return res.json();
}

describe("self-certifying actors", () => {
  it("makes an attestation a plugin generates without actors its own actor, and the plugin reads it back so", async () => {
    const made = await ats("/generate", { command: { subjects: ["doc-1"], predicates: ["read"], contexts: ["library"] } });
    expect(made.id).toMatch(GENERATED_ID_PATTERN);
    expect(made.actors).toEqual([made.id]);
    const { attestations } = await ats("/read", { filter: { actors: [made.id] } });
    expect(attestations).toEqual([{ id: made.id, subjects: ["doc-1"], actors: [made.id] }]);
  });

  it("keeps the actors a plugin gives", async () => {
    const made = await ats("/generate", { command: { subjects: ["doc-2"], actors: ["loom"] } });
    expect(made.actors).toEqual(["loom"]);
    expect((await ats("/read", { filter: { actors: ["loom"] } })).attestations.map((a: { id: string }) => a.id)).toEqual([made.id]);
  });

  it("does the same for each attestation of a batch", async () => {
    const { created, attestations } = await ats("/batch", { commands: [{ subjects: ["batch-1"] }, { subjects: ["batch-2"], actors: ["bob"] }, { subjects: ["batch-3"] }] });
    expect(created).toBe(3);
    const bySubject = Object.fromEntries(attestations.map((a: { subjects: string[]; id: string; actors: string[] }) => [a.subjects[0], a]));
    expect(bySubject["batch-1"].actors).toEqual([bySubject["batch-1"].id]);
    expect(bySubject["batch-2"].actors).toEqual(["bob"]);
    expect(bySubject["batch-3"].actors).toEqual([bySubject["batch-3"].id]);
  });

  it("stores the deprecated CreateAttestation's client-built attestation as given, as QNTX does", async () => {
    await ats("/legacy", { attestation: { id: "legacy-1", subjects: ["old-style"], predicates: ["p"], contexts: ["c"] } });
    expect((await ats("/read", { filter: { subjects: ["old-style"] } })).attestations).toEqual([{ id: "legacy-1", subjects: ["old-style"], actors: [] }]);
  });

  it("makes an attestation created over HTTP without actors its own actor too", async () => {
    const res = await http(`${t.url}/api/attestations`, { method: "POST", headers: { ...adminHeaders(t), "content-type": "application/json" }, body: JSON.stringify({ subjects: ["from-http"] }) });
    expect(res.status).toBe(201);
    const { attestation } = res.json();
    expect(attestation.actors).toEqual([attestation.id]);
  });
});

/** Sends a raw HTTP/1.1 request (header names exactly as written) and returns the JSON body. */
async function rawRequest(request: string): Promise<unknown> {
  const { port } = new URL(t.url);
  const socket = connect({ host: "127.0.0.1", port: Number(port) });
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  socket.write(request);
  let text = "";
  socket.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
  await new Promise((resolve) => socket.once("close", resolve));
  expect(text.slice(0, 12)).toBe("HTTP/1.1 200");
  return JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));
}

describe("request headers as QNTX sends them", () => {
  it("names them in Go's canonical form, groups repeated ones and leaves Host out", async () => {
    const seen = (await rawRequest(
      "GET /api/hdrs/raw-headers HTTP/1.1\r\nHost: example.test:1234\r\ncontent-type: text/plain\r\nX-REQUEST-ID: r-1\r\n" +
        "www-authenticate: Basic\r\nx-multi: one\r\nX-Multi: two\r\nx_under_score: u\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n",
    )) as Array<{ name: string; values: string[] }>;
    expect([...seen].sort((a, b) => (a.name < b.name ? -1 : 1))).toEqual([
      { name: "Content-Type", values: ["text/plain"] },
      { name: "Etag", values: ['"v1"'] },
      // The host starts a W3C trace for a request that carries none and passes it on (docs/tracing.md).
      { name: "Traceparent", values: [expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)] },
      { name: "Www-Authenticate", values: ["Basic"] },
      { name: "X-Multi", values: ["one", "two"] },
      { name: "X-Request-Id", values: ["r-1"] },
      { name: "X_under_score", values: ["u"] },
    ]);
  });

  it("does the same for a request with a body (the path through fastify)", async () => {
    const body = '{"x":1}';
    const seen = (await rawRequest(
      `POST /api/hdrs/raw-headers HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nx-trace-id: t\r\nconnection: close\r\n\r\n${body}`,
    )) as Array<{ name: string; values: string[] }>;
    expect(seen.map((h) => h.name).sort()).toEqual(["Content-Length", "Content-Type", "Traceparent", "X-Trace-Id"]);
  });
});

describe("GET /api/plugins/glyphs", () => {
  it("lists every running plugin's glyphs as QNTX does, leaving out plugins without, failing or too slow", async () => {
    await pluginInState(t.host.registry, "parked", "running");
    const stop = await http(`${t.url}/api/plugins/parked/stop`, { method: "POST", headers: adminHeaders(t) });
    expect(stop.status).toBe(200);
    const started = Date.now();
    const res = await http(`${t.url}/api/plugins/glyphs`);
    expect(res.status).toBe(200);
    // `slow` never answers: its call has a deadline, the list does not wait for it for ever.
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(res.json()).toEqual([
      { plugin: "bookmarks", symbol: "🔖", title: "Bookmarks", label: "Saved links", content_url: "/api/bookmarks/panel", default_width: 480, default_height: 360 },
      {
        plugin: "oven", symbol: "🔥", title: "Oven", label: "Open the oven",
        content_url: "/api/oven/oven", css_url: "/api/oven/oven.css", module_url: "/api/oven/oven.js", default_width: 640, default_height: 480,
      },
      { plugin: "oven", symbol: "⏱", title: "Timer", label: "", content_url: "/api/oven/timer" },
    ]);
    expect(t.logs.some((l) => l.msg.includes("did not list its glyphs") && l.plugin === "broken")).toBe(true);
    expect(t.logs.some((l) => l.msg.includes("did not list its glyphs") && l.plugin === "unimpl")).toBe(false);
  });

  it("serves the glyph's content at the URL it lists", async () => {
    const glyph = (await http(`${t.url}/api/plugins/glyphs`)).json().find((g: { plugin: string }) => g.plugin === "bookmarks");
    const panel = await http(`${t.url}${glyph.content_url}`);
    expect(panel.status).toBe(200);
    expect(panel.headers.get("content-type")).toContain("text/html");
  });

  it("answers 405 to other methods, like QNTX", async () => {
    const res = await http(`${t.url}/api/plugins/glyphs`, { method: "POST", headers: adminHeaders(t) });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });
});
