/**
 * `consumer`: a plugin that uses what other plugins provide, without knowing who they are or
 * where they run — it calls the host, and the host routes each call to the provider plugin
 * (pyplug in `pnpm start`). ADR-003: plugins never dial each other.
 *
 * - `POST /api/consumer/ask {"question": "…"}` → `ctx.llm.chat` → `{answer, model, tokens}`.
 * - `/ws/consumer`: each message is a question; the reply streams back word by word as the
 *   provider makes it (`ctx.llm.stream`), then `{"done": true, "tokens": N}`.
 * - `POST /api/consumer/remember {"text": "…"}` → embeds the text (`ctx.embedding`), stores
 *   the vector (`ctx.vectors`) and indexes it for full-text search (`ctx.search`).
 * - `GET /api/consumer/recall?q=…` → the nearest remembered texts by meaning (vectors) and
 *   the ones containing the words (search).
 */
import { definePlugin, HttpError, isHostServiceError, type HostServices } from "@qntx/sdk";

/** The vector index and the search index this plugin keeps its memories in. */
const INDEX = "consumer-memory";

/** The host's services as the last Initialize gave them (WebSocket sessions have no context of their own). */
let host: HostServices | undefined;
/** Remembered texts by id: vector search answers ids. */
const texts = new Map<string, string>();
let indexReady: Promise<void> | undefined;

/** A service or an error that says which plugin the host needs. */
function need<K extends keyof HostServices>(services: HostServices, name: K): NonNullable<HostServices[K]> {
  const client = services[name];
  if (!client) throw new HttpError(503, `the host offers no ${String(name)} service`);
  return client as NonNullable<HostServices[K]>;
}

/** The host's refusal (no provider running, over budget, …) as an HTTP answer that says so. */
function hostError(error: unknown): never {
  if (isHostServiceError(error)) throw new HttpError(error.grpcCode === 14 ? 503 : 502, error.message);
  throw error;
}

export const plugin = definePlugin({
  metadata: { name: "consumer", version: "0.1.0", description: "Asks, remembers and recalls through providers the host routes to" },
  initialize: (ctx) => {
    host = ctx;
    indexReady = undefined;
  },
  routes: {
    "POST /ask": {
      description: "ask the LLM provider a question: {question}",
      handler: async (req, ctx) => {
        const { question } = req.json<{ question?: string }>();
        if (!question) throw new HttpError(400, 'send {"question": "…"}');
        const reply = await need(ctx, "llm").chat(question).catch(hostError);
        return { answer: reply.content, model: reply.model, tokens: reply.totalTokens };
      },
    },
    "POST /remember": {
      description: "embed and index a text: {text}",
      handler: async (req, ctx) => {
        const { text } = req.json<{ text?: string }>();
        if (!text) throw new HttpError(400, 'send {"text": "…"}');
        try {
          const { vector } = await need(ctx, "embedding").embed(text);
          indexReady ??= need(ctx, "vectors").createIndex(INDEX, vector.length).then(() => undefined);
          await indexReady;
          const id = `m${texts.size + 1}`;
          texts.set(id, text);
          await need(ctx, "vectors").add(INDEX, [{ id, vector }]);
          await need(ctx, "search").index(INDEX, [{ id, text }]);
          return { id, dimensions: vector.length };
        } catch (error) {
          indexReady = undefined;
          return hostError(error);
        }
      },
    },
    "GET /recall": {
      description: "what was remembered, nearest to ?q= by meaning and by words",
      handler: async (req, ctx) => {
        const q = req.query.get("q") ?? "";
        if (!q) throw new HttpError(400, "add ?q=…");
        try {
          const { vector } = await need(ctx, "embedding").embed(q);
          const near = await need(ctx, "vectors").search(INDEX, vector, 3);
          const found = await need(ctx, "search").search({ index: INDEX, query: q, topK: 3 });
          return {
            byMeaning: near.map((hit) => ({ text: texts.get(hit.id) ?? hit.id, distance: Number(hit.distance.toFixed(4)) })),
            byWords: found.hits.map((hit) => hit.document.text),
          };
        } catch (error) {
          return hostError(error);
        }
      },
    },
  },
  websocket: (session) => {
    session.on("message", async (data) => {
      const question = data.toString("utf8").trim();
      const llm = host?.llm;
      if (!llm) return session.send(JSON.stringify({ error: "the host offers no LLM service" }));
      try {
        let tokens = 0;
        // Each chunk goes to the browser as soon as the provider made it.
        for await (const chunk of llm.stream(question)) {
          if (chunk.token) session.send(chunk.token);
          if (chunk.done) tokens = chunk.totalTokens;
        }
        session.send(JSON.stringify({ done: true, tokens }));
      } catch (error) {
        session.send(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
      }
    });
  },
});
