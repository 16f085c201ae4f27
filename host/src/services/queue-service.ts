/**
 * QueueService (Pulse) as the host serves it to plugins. Every call checks the caller's
 * token; application errors travel in the body (`success:false`, `error`), as QNTX plugins
 * expect. Enqueue fills what a plugin leaves empty (id, `queued`, created_at) and stamps
 * `source` with the plugin's name; handler names are routed and refused at once when unknown
 * or ambiguous, never queued forever.
 */
import { toWireJob, type Pulse } from "@qntx/pulse";
import { jsonBytesTooDeep, type Job, type QueueServiceServer } from "@qntx/protocol";
import type { Logger } from "pino";
import { INVALID_TOKEN, required, type BodyStatus } from "./ats-service.js";
import type { PluginTokens } from "./tokens.js";

/** What the service needs. */
export interface QueueServiceDeps {
  readonly pulse: Pulse;
  readonly tokens: PluginTokens;
  readonly logger: Logger;
}

/** Builds the grpc-js implementation of QueueService. */
export function createQueueService({ pulse, tokens, logger }: QueueServiceDeps): QueueServiceServer {
  /** Runs `work` for an authenticated plugin and answers; any failure becomes a body error. */
  const answer = <E extends object>(
    token: string,
    empty: E,
    callback: (error: null, response: E & BodyStatus) => void,
    work: (plugin: string) => Promise<Partial<E>>,
  ): void => {
    const plugin = tokens.pluginFor(token);
    if (!plugin) return callback(null, { ...empty, success: false, error: INVALID_TOKEN });
    work(plugin).then(
      (fields) => callback(null, { ...empty, ...fields, success: true, error: "" }),
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        logger.debug({ plugin, err: message }, "queue call refused");
        callback(null, { ...empty, success: false, error: message });
      },
    );
  };

  return {
    enqueue(call, callback) {
      answer(call.request.authToken, { jobId: "" }, callback, async (plugin) => {
        const job = required(call.request.job, "job");
        const tooDeep = jsonBytesTooDeep(job.payload, "the job's payload");
        if (tooDeep) throw new Error(tooDeep);
        const stored = await pulse.enqueueWire(job, { source: plugin });
        return { jobId: stored.id };
      });
    },

    getJob(call, callback) {
      answer(call.request.authToken, { job: undefined as Job | undefined }, callback, async () => {
        const id = call.request.jobId;
        if (!id) throw new Error("job_id is required");
        const job = await pulse.get(id);
        if (!job) throw new Error(`no job with id ${id}`);
        return { job: toWireJob(job) };
      });
    },

    updateJob(call, callback) {
      answer(call.request.authToken, {}, callback, async () => {
        await pulse.updateWire(required(call.request.job, "job"));
        return {};
      });
    },

    listJobs(call, callback) {
      answer(call.request.authToken, { jobs: [] as Job[] }, callback, async () => {
        const limit = call.request.limit;
        const jobs = await pulse.list({ status: call.request.status || undefined, limit: limit !== undefined && limit > 0 ? limit : undefined });
        return { jobs: jobs.map(toWireJob) };
      });
    },
  };
}
