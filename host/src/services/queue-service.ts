/**
 * QueueService (Pulse) as the host serves it to plugins. Every call checks the caller's
 * token; application errors travel in the body (`success:false`, `error`), as QNTX plugins
 * expect. Enqueue fills what a plugin leaves empty (id, `queued`, created_at) and stamps
 * `source` with the caller's name from its token, whatever the job says; handler names are
 * routed and refused at once when unknown or ambiguous, never queued forever.
 *
 * Isolation: a plugin reads, updates and sees the payload of only its own jobs — those it
 * enqueued (`source`) and those that run on its handlers (`plugin`). Other plugins' jobs are
 * listed without payload or error. Its grants (`services`, `enqueue`) limit what it may call.
 */
import { toWireJob, type Pulse, type PulseJob } from "@qntx/pulse";
import { formatTraceparent, jsonBytesTooDeep, traceOfMetadata, type Job, type QueueServiceServer } from "@qntx/protocol";
import type { Logger } from "pino";
import { INVALID_TOKEN, required, type BodyStatus } from "./ats-service.js";
import { PERMISSION_DENIED, type GrantChecker } from "./grants.js";
import type { PluginTokens } from "./tokens.js";

/** What the service needs. */
export interface QueueServiceDeps {
  readonly pulse: Pulse;
  readonly tokens: PluginTokens;
  /** Each plugin's grants; without it every plugin may do everything. */
  readonly grants?: GrantChecker;
  readonly logger: Logger;
}

/** Whether `job` is `plugin`'s own: enqueued by it, or run on one of its handlers. */
export function ownsJob(plugin: string, job: PulseJob): boolean {
  return job.source === plugin || job.plugin === plugin;
}

/** The job as `plugin` may see it: whole when it is its own, else without payload or error. */
function shownTo(plugin: string, job: PulseJob): Job {
  const wire = toWireJob(job);
  return ownsJob(plugin, job) ? wire : { ...wire, payload: Buffer.alloc(0), error: "" };
}

/** Builds the grpc-js implementation of QueueService. */
export function createQueueService({ pulse, tokens, grants, logger }: QueueServiceDeps): QueueServiceServer {
  /** Runs `work` for an authenticated plugin with the queue granted, and answers; any failure becomes a body error. */
  const answer = <E extends object>(
    token: string,
    empty: E,
    callback: (error: null, response: E & BodyStatus) => void,
    work: (plugin: string) => Promise<Partial<E>>,
  ): void => {
    const plugin = tokens.pluginFor(token);
    if (!plugin) return callback(null, { ...empty, success: false, error: INVALID_TOKEN });
    const refused = grants?.refusal(plugin, "services", "queue");
    if (refused) return callback(null, { ...empty, success: false, error: refused });
    work(plugin).then(
      (fields) => callback(null, { ...empty, ...fields, success: true, error: "" }),
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        logger.debug({ plugin, err: message }, "queue call refused");
        callback(null, { ...empty, success: false, error: message });
      },
    );
  };

  /** The job `id` when `plugin` may act on it; an unknown and a foreign job are refused alike. */
  const ownJob = async (plugin: string, id: string, verb: string): Promise<PulseJob> => {
    if (!id) throw new Error("job_id is required");
    const job = await pulse.get(id);
    if (!job) throw new Error(`no job with id ${id}`);
    if (!ownsJob(plugin, job)) {
      throw new Error(`${PERMISSION_DENIED}: plugin ${plugin} may not ${verb} job ${id}: it neither enqueued it nor runs its handler (${job.handler})`);
    }
    return job;
  };

  return {
    enqueue(call, callback) {
      answer(call.request.authToken, { jobId: "" }, callback, async (plugin) => {
        const job = required(call.request.job, "job");
        const tooDeep = jsonBytesTooDeep(job.payload, "the job's payload");
        if (tooDeep) throw new Error(tooDeep);
        const refused = grants?.refusal(plugin, "enqueue", pulse.handlers.resolve(job.handlerName).qualified);
        if (refused) throw new Error(refused);
        // Identity comes from the token: a plugin cannot enqueue in another's name.
        // The trace the plugin's call came in (the SDK sends it from the request or job it serves).
        const trace = traceOfMetadata(call.metadata);
        const stored = await pulse.enqueueWire({ ...job, source: plugin }, trace ? { traceparent: formatTraceparent(trace), tracestate: trace.state } : {});
        return { jobId: stored.id };
      });
    },

    getJob(call, callback) {
      answer(call.request.authToken, { job: undefined as Job | undefined }, callback, async (plugin) => {
        const id = call.request.jobId;
        if (!id) throw new Error("job_id is required");
        const job = await pulse.get(id);
        if (!job) throw new Error(`no job with id ${id}`);
        return { job: shownTo(plugin, job) };
      });
    },

    updateJob(call, callback) {
      answer(call.request.authToken, {}, callback, async (plugin) => {
        const update = required(call.request.job, "job");
        await ownJob(plugin, update.id, "update");
        await pulse.updateWire(update);
        return {};
      });
    },

    listJobs(call, callback) {
      answer(call.request.authToken, { jobs: [] as Job[] }, callback, async (plugin) => {
        const limit = call.request.limit;
        const jobs = await pulse.list({ status: call.request.status || undefined, limit: limit !== undefined && limit > 0 ? limit : undefined });
        return { jobs: jobs.map((job) => shownTo(plugin, job)) };
      });
    },
  };
}
