/**
 * The `ingest` example plugin (ADR-003, first half): turns git commits into `committed`
 * attestations in the host's attestation store. It knows nothing of who reads them; the
 * `analyzer` plugin watches that predicate and does the follow-up work as Pulse jobs.
 *
 * - `POST /commits` `{ repo, commits: [{ sha, author, message, files? }] }` → 201 `{ created }`
 * - `GET /commits?repo=&limit=` → `{ commits: [...] }`, newest first
 * - job `import` (enqueue `ingest/import` with the same body) → `{ created }`, progress per commit
 */
import { definePlugin, HttpError, isHostServiceError, json, type AtsClient, type PluginRequest } from "@qntx/sdk";
import { COMMITTED, commitAttestation, commitView, InvalidBatchError, parseBatch, type CommitBatch } from "./commits.js";

/** The host's attestation store, set by `initialize`. */
let ats: AtsClient | undefined;

const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 1_000;

function requireAts(): AtsClient {
  if (!ats) throw new HttpError(503, "the host offers no attestation store to this plugin (empty ats_store_endpoint)");
  return ats;
}

/** A batch from a request body; problems answer 400 with every problem named. */
function batchOf(req: PluginRequest): CommitBatch {
  try {
    return parseBatch(req.json());
  } catch (err) {
    if (err instanceof InvalidBatchError) throw new HttpError(400, err.message);
    throw err; // req.json()'s own HttpError 400 (empty or invalid JSON)
  }
}

/** The store failing is the upstream's fault, not ours: 502 with its message rather than 500. */
async function upstream<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isHostServiceError(err)) throw new HttpError(502, `attestation store: ${err.message}`, { cause: err });
    throw err;
  }
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
    name: "ingest",
    version: "0.1.0",
    qntxVersion: ">=0.1.0",
    description: "ADR-003 example: records git commits as `committed` attestations",
    author: "qntx",
    license: "MIT",
  },

  initialize(ctx) {
    ats = ctx.ats;
    if (!ats) ctx.log.warn("no attestation store offered: /commits will answer 503");
  },

  routes: {
    "POST /commits": {
      description: "Records commits { repo, commits: [{ sha, author, message, files? }] } as `committed` attestations",
      handler: async (req: PluginRequest) => {
        const { repo, commits } = batchOf(req);
        const store = requireAts();
        // One call, one store transaction for the whole batch.
        const created = await upstream(() => store.createMany(commits.map((commit) => commitAttestation(repo, commit))));
        return json({ created }, { status: 201 });
      },
    },
    "GET /commits": {
      description: "Lists recorded commits, newest first (?repo= to filter, ?limit=, default 100)",
      handler: async (req: PluginRequest) => {
        const repo = req.query.get("repo");
        const store = requireAts();
        const found = await upstream(() => store.query({ predicates: [COMMITTED], contexts: repo ? [repo] : [], limit: limitOf(req) }));
        return { commits: found.map(commitView) };
      },
    },
  },

  handlers: {
    /** Same as POST /commits, from a job payload; one attestation per commit so progress is real. */
    import: async (payload, ctx) => {
      let batch: CommitBatch;
      try {
        batch = parseBatch(payload);
      } catch (err) {
        // Retrying a malformed payload cannot help; the message says what to fix.
        throw err instanceof InvalidBatchError ? new Error(err.message) : err;
      }
      if (!ctx.ats) throw new Error("the host offers no attestation store to this plugin");
      const { repo, commits } = batch;
      ctx.progress(0, commits.length);
      ctx.log.info(`importing ${commits.length} commits of ${repo}`, { stage: "import", metadata: { repo, commits: commits.length } });
      for (const [i, commit] of commits.entries()) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        await ctx.ats.create(commitAttestation(repo, commit), { signal: ctx.signal });
        ctx.progress(i + 1);
      }
      ctx.log.info("import done", { stage: "import" });
      return { created: commits.length };
    },
  },

  // Still serving without a store (routes answer 503), so still healthy; the message says why.
  health: () => ({ healthy: true, message: ats ? "ok" : "no attestation store offered: /commits answers 503" }),
});
