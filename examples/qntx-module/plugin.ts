/**
 * bookmarks — a QNTX-format plugin: this file's default export is a plain object, as QNTX's
 * TypeScript runtime expects (docs/protocol.md §2). The host runs it with `node qntx-ts-runner
 * --plugin-path examples/qntx-module`, no build step and no Bun.
 *
 * - `init` connects to the host's attestation store (ATSStoreService) with the token it is given;
 * - `registerHTTP` serves POST/GET /bookmarks and an HTML panel;
 * - `registerGlyphs` offers the panel as a glyph;
 * - `handler_names` + `execute_job`: the Pulse job `bookmarks/digest` counts bookmarks per tag
 *   and stores the digest as an attestation; `schedules` offers it daily (off by default).
 *
 * `@qntx/sdk` is not a dependency of this folder: the runner resolves it to its own SDK.
 * The type imports are erased when the file is loaded.
 */
import { createAtsClient, type AtsClient, type JobContext } from "@qntx/sdk";
import type { QntxInitRequest, QntxJob, QntxMux } from "@qntx/sdk/qntx-runner";
import { escapeHtml, latestPerUrl, parseBookmark, PREDICATE } from "./bookmark.js";

let ats: AtsClient | undefined;
let defaultTag = "unsorted";

function store(): AtsClient {
  if (!ats) throw new Error("bookmarks is not initialized: the host has not sent Initialize");
  return ats;
}

async function allBookmarks(tag?: string) {
  const attestations = await store().query({ predicates: [PREDICATE], ...(tag ? { contexts: [tag] } : {}) });
  return latestPerUrl(attestations);
}

export default {
  name: "bookmarks",
  version: "0.1.0",
  qntx_version: ">=0.1.0",
  description: "Saves links as attestations; a daily digest job counts them per tag",
  author: "qntx examples",
  license: "MIT",
  handler_names: ["digest"],
  schedules: [{ handler_name: "digest", interval_seconds: 86_400, enabled_by_default: false, description: "count bookmarks per tag, once a day" }],

  init(request: QntxInitRequest) {
    if (!request.ats_store_endpoint) throw new Error("the host offers no attestation store (empty ats_store_endpoint)");
    // A re-Initialize (config change) gets a fresh client for the endpoint and token it carries.
    ats?.close();
    ats = createAtsClient(request.ats_store_endpoint, request.auth_token);
    defaultTag = request.config.default_tag || "unsorted";
  },

  registerHTTP(mux: QntxMux) {
    mux.handle("POST", "/bookmarks", async (req, res) => {
      const input = parseBookmark(await req.json(), defaultTag);
      if (typeof input === "string") return res.status(400).json({ error: input });
      const saved = await store().create({ subjects: [input.url], predicates: [PREDICATE], contexts: input.tags, attributes: { title: input.title } });
      res.status(201).json({ id: saved.id, url: input.url, title: input.title, tags: input.tags });
    });

    mux.handle("GET", "/bookmarks", async (req, res) => {
      res.json({ bookmarks: await allBookmarks(req.query.tag) });
    });

    mux.handle("GET", "/panel", async (_req, res) => {
      const items = (await allBookmarks()).map((b) => `<li><a href="${escapeHtml(b.url)}">${escapeHtml(b.title)}</a> <small>${b.tags.map(escapeHtml).join(", ")}</small></li>`);
      res.setHeader("Content-Type", "text/html; charset=utf-8");
      res.send(`<!doctype html><title>Bookmarks</title><ul>${items.join("") || "<li>nothing saved yet</li>"}</ul>`);
    });
  },

  registerGlyphs() {
    return [{ symbol: "🔖", title: "Bookmarks", label: "Saved links", content_path: "/panel", default_width: 480, default_height: 360 }];
  },

  async execute_job(job: QntxJob, ctx: JobContext) {
    if (job.handler_name !== "digest") throw new Error(`unknown handler ${job.handler_name}`);
    const bookmarks = await allBookmarks();
    const perTag: Record<string, number> = {};
    bookmarks.forEach((bookmark, i) => {
      for (const tag of bookmark.tags) perTag[tag] = (perTag[tag] ?? 0) + 1;
      ctx.progress(i + 1, bookmarks.length);
    });
    const digest = await store().create({ subjects: ["bookmarks"], predicates: ["digest"], contexts: ["bookmarks"], attributes: { total: bookmarks.length, perTag } });
    ctx.log.info(`digest of ${bookmarks.length} bookmarks`, { stage: "digest", metadata: { attestation: digest.id } });
    return { total: bookmarks.length, perTag, attestation: digest.id };
  },

  shutdown() {
    ats?.close();
    ats = undefined;
  },
};
