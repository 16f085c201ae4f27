/**
 * The `analyzer` example plugin (ADR-003, second half; ADR-004).
 *
 * It never talks to the `ingest` plugin. It declares a watcher on `committed` attestations;
 * for each new one the host enqueues the Pulse job `analyzer/analyze`, which classifies the
 * commit and writes an `analyzed` attestation. `GET /analysis?repo=` lists those.
 *
 * Dynamic handlers (ADR-004): at `initialize` it loads `handler` attestations of context
 * `analyzer` (`qntx handler create NAME --code …`) and announces each as a job handler that
 * runs the stored code in a `node:vm` sandbox — which is NOT a security boundary (see
 * sandbox.ts): it runs code the operator stored, with the plugin's privileges.
 */
import { definePlugin, HttpError, isHostServiceError, type AtsClient, type InitContext, type PluginRequest } from "@qntx/sdk";
import { analyze, ANALYZED, COMMITTED, commitFromPayload, DEFAULT_RISKY_FILES } from "./analysis.js";
import { compileUserHandler } from "./sandbox.js";

/** Cost recorded per analysed commit (Pulse sums `cost_actual`). */
export const COST_PER_COMMIT = 0.0001;

/** The host's attestation store, set by `initialize` (routes have no context of their own). */
let ats: AtsClient | undefined;
/** Dynamic handlers loaded by the latest `initialize`, and the ones skipped with the reason. */
let loaded: string[] = [];
let skipped: Array<{ name: string; reason: string }> = [];
/** Why loading dynamic handlers failed at the latest `initialize` ("" when it did not). */
let loadError = "";

const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 1_000;

/**
 * Registers one job handler per `handler` attestation of this plugin, newest per name. A newest
 * attestation without `attributes.code` (or with an empty one) removes the name; code that
 * does not compile is skipped and logged — one bad handler must not keep the plugin down.
 */
async function loadDynamicHandlers(ctx: InitContext): Promise<void> {
  loaded = [];
  skipped = [];
  loadError = "";
  if (!ctx.ats) {
    ctx.log.warn("no attestation store offered: no dynamic handlers");
    return;
  }
  const timeoutMs = Number(ctx.config.handler_timeout_ms);
  let found: Awaited<ReturnType<AtsClient["query"]>>;
  try {
    found = await ctx.ats.query({ predicates: ["handler"], contexts: ["analyzer"] });
  } catch (err) {
    // The static handlers and the watcher still work; say so rather than failing the start.
    loadError = (err as Error).message;
    ctx.log.error("could not load dynamic handlers; restart the plugin to retry", { err });
    return;
  }
  const seen = new Set<string>();
  for (const attestation of found) {
    // Newest first: the first attestation naming a handler is the one in force.
    for (const name of attestation.subjects) {
      if (seen.has(name)) continue;
      seen.add(name);
      const code = attestation.attributes?.code;
      if (typeof code !== "string" || code.trim() === "") {
        skipped.push({ name, reason: `attestation ${attestation.id} has no attributes.code` });
        continue;
      }
      try {
        ctx.registerHandler(name, compileUserHandler(name, code, { timeoutMs }));
        loaded.push(name);
      } catch (err) {
        skipped.push({ name, reason: (err as Error).message });
      }
    }
  }
  for (const s of skipped) ctx.log.warn("dynamic handler skipped", { handler: s.name, reason: s.reason });
  if (loaded.length) ctx.log.info("dynamic handlers loaded", { handlers: loaded });
}

function limitOf(req: PluginRequest): number {
  const raw = req.query.get("limit");
  if (raw === null || raw === "") return DEFAULT_LIST_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new HttpError(400, `limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  return limit;
}

/** The plugin definition; `main.ts` serves it. */
export const plugin = definePlugin({
  metadata: {
    name: "analyzer",
    version: "0.1.0",
    qntxVersion: ">=0.1.0",
    description: "ADR-003/004 example: analyses each new commit in a Pulse job; runs stored handler code",
    author: "qntx",
    license: "MIT",
  },

  configSchema: {
    risky_files: { type: "number", description: "A commit touching more files than this is risky", default: DEFAULT_RISKY_FILES, min: 0 },
    handler_timeout_ms: { type: "number", description: "Time limit of one run of a dynamic handler", default: 1000, min: 10, max: 60_000 },
  },

  async initialize(ctx) {
    ats = ctx.ats;
    await loadDynamicHandlers(ctx);
  },

  handlers: {
    /** Enqueued by the host for each new `committed` attestation (watcher `on-commit`). */
    analyze: async (payload, ctx) => {
      ctx.progress(0, 3);
      const commit = commitFromPayload(payload);
      if (!ctx.ats) throw new Error("the host offers no attestation store to this plugin");
      ctx.progress(1);

      const result = analyze(commit, Number(ctx.config.risky_files ?? DEFAULT_RISKY_FILES));
      ctx.log.info(`${commit.sha}: ${result.kind}, ${result.files} files${result.risky ? ", risky" : ""}`, {
        stage: "classify",
        metadata: { sha: commit.sha, repo: commit.repo, ...result },
      });
      ctx.addCost(COST_PER_COMMIT);
      ctx.progress(2);

      // Pulse retries a failed job: do not write a second analysis of the same commit attestation.
      if (commit.id) {
        const earlier = await ctx.ats.query({ subjects: [commit.sha], predicates: [ANALYZED], contexts: commit.repo ? [commit.repo] : [] }, { signal: ctx.signal });
        const same = earlier.find((a) => a.attributes?.commit === commit.id);
        if (same) {
          ctx.log.info("already analysed, kept the earlier attestation", { stage: "write", metadata: { attestation: same.id } });
          ctx.progress(3);
          return { sha: commit.sha, ...result, attestation: same.id, reused: true };
        }
      }
      const written = await ctx.ats.create(
        {
          subjects: [commit.sha],
          predicates: [ANALYZED],
          contexts: commit.repo ? [commit.repo] : [],
          attributes: { ...result, commit: commit.id },
          source: "analyzer",
        },
        { signal: ctx.signal },
      );
      ctx.log.info("analysis recorded", { stage: "write", metadata: { attestation: written.id } });
      ctx.progress(3);
      return { sha: commit.sha, ...result, attestation: written.id };
    },
  },

  watchers: [{ id: "on-commit", handler: "analyze", predicates: [COMMITTED] }],

  routes: {
    "GET /analysis": {
      description: "Lists analyses, newest first (?repo= to filter, ?limit=, default 100)",
      handler: async (req: PluginRequest) => {
        if (!ats) throw new HttpError(503, "the host offers no attestation store to this plugin");
        const repo = req.query.get("repo");
        const store = ats;
        try {
          const found = await store.query({ predicates: [ANALYZED], contexts: repo ? [repo] : [], limit: limitOf(req) });
          return {
            analyses: found.map((a) => ({
              sha: a.subjects[0] ?? "",
              repo: a.contexts[0] ?? "",
              kind: a.attributes?.kind,
              files: a.attributes?.files,
              risky: a.attributes?.risky,
              commit: a.attributes?.commit ?? "",
              timestamp: a.timestamp,
            })),
          };
        } catch (err) {
          if (isHostServiceError(err)) throw new HttpError(502, `attestation store: ${err.message}`, { cause: err });
          throw err;
        }
      },
    },
    "GET /handlers": {
      description: "Dynamic handlers loaded at the latest initialize, and the ones skipped with why",
      handler: () => ({ loaded, skipped, ...(loadError ? { error: loadError } : {}) }),
    },
  },

  health: () => ({
    healthy: true,
    message: !ats ? "no attestation store offered" : loadError ? `dynamic handlers not loaded: ${loadError}` : "ok",
    details: { dynamic_handlers: loaded.length },
  }),
});
