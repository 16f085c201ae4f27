/**
 * `QueueClient`: a typed promise API over the host's `QueueService` (Pulse, queue.proto).
 * One gRPC channel per client, created once and reused by every call.
 */
import { credentials } from "@grpc/grpc-js";
import { grpcOptions, Job, QueueServiceClient } from "@qntx/protocol";
import { checkBody, DEFAULT_HOST_CALL_TIMEOUT_MS, HostServiceError, unaryCall, type HostCallOptions, type HostClientOptions } from "./call.js";

/** What {@link QueueClient.enqueue} needs. */
export interface EnqueueInput {
  /**
   * Handler to run. Plugin handlers are registered on the host as `<plugin>/<handler>`
   * (e.g. `hello/resize`).
   */
  handler: string;
  /** Sent as JSON; a Buffer/Uint8Array is sent as is (it should hold JSON). */
  payload?: unknown;
  /** Who asked; default the plugin name (SDK clients) or empty. */
  source?: string;
  /** Job that spawned this one. */
  parentJobId?: string;
  /** Expected cost, for Pulse budgets. */
  costEstimate?: number;
}

/** Options of {@link QueueClient.list}. */
export interface ListJobsInput {
  /** `queued | running | paused | completed | failed | cancelled`; all when omitted. */
  status?: string;
  /** At most this many; all when omitted or 0. */
  limit?: number;
}

/**
 * The host's job queue. Every method sends the `auth_token` given at `Initialize` and has a
 * deadline (10 s unless `timeoutMs` says otherwise). Errors are {@link HostServiceError}s.
 */
export interface QueueClient {
  /** `host:port` this client talks to. */
  readonly endpoint: string;
  /** Enqueues a job and resolves with its id. */
  enqueue(input: EnqueueInput, options?: HostCallOptions): Promise<string>;
  /** The job with this id. */
  get(id: string, options?: HostCallOptions): Promise<Job>;
  /** Updates a job: send its id and the fields to change. */
  update(job: Partial<Job> & { id: string }, options?: HostCallOptions): Promise<void>;
  /** Jobs, optionally of one status and at most `limit` of them. */
  list(input?: ListJobsInput, options?: HostCallOptions): Promise<Job[]>;
  /** Closes the channel. Calls made afterwards fail. */
  close(): void;
}

/** Options of {@link createQueueClient}. */
export interface QueueClientOptions extends HostClientOptions {
  /** Default `source` of enqueued jobs. */
  source?: string;
}

const SERVICE = "QueueService";

/** JSON bytes of a payload; bytes pass through, `undefined` is empty. */
export function encodeJsonPayload(payload: unknown): Buffer {
  if (payload === undefined) return Buffer.alloc(0);
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const text = JSON.stringify(payload);
  if (text === undefined) throw new TypeError(`payload of type ${typeof payload} cannot be sent as JSON`);
  return Buffer.from(text, "utf8");
}

/**
 * A client of the `QueueService` at `endpoint` (`host:port`) that sends `authToken` with
 * every call. The SDK builds one at `Initialize` (`ctx.queue`).
 */
export function createQueueClient(endpoint: string, authToken: string, options: QueueClientOptions = {}): QueueClient {
  if (!endpoint) throw new TypeError("createQueueClient: endpoint must be host:port");
  const client = new QueueServiceClient(endpoint, options.credentials ?? credentials.createInsecure(), { ...grpcOptions(), ...options.channelOptions });
  const timeoutMs = options.timeoutMs ?? DEFAULT_HOST_CALL_TIMEOUT_MS;

  return {
    endpoint,

    async enqueue(input, callOptions) {
      if (!input || typeof input.handler !== "string" || input.handler === "") throw new TypeError("enqueue: handler must be a non-empty string");
      const method = `${SERVICE}/Enqueue`;
      const job = Job.fromPartial({
        handlerName: input.handler,
        payload: encodeJsonPayload(input.payload),
        source: input.source ?? options.source ?? "",
        parentJobId: input.parentJobId ?? "",
        costEstimate: input.costEstimate ?? 0,
      });
      const res = await unaryCall(client, client.enqueue, method, { authToken, job }, timeoutMs, callOptions);
      checkBody(method, res);
      return res.jobId;
    },

    async get(id, callOptions) {
      const method = `${SERVICE}/GetJob`;
      const res = await unaryCall(client, client.getJob, method, { authToken, jobId: id }, timeoutMs, callOptions);
      checkBody(method, res);
      if (!res.job) throw new HostServiceError("HOST_ERROR", method, `the host answered success without job ${id}`);
      return res.job;
    },

    async update(job, callOptions) {
      const method = `${SERVICE}/UpdateJob`;
      const res = await unaryCall(client, client.updateJob, method, { authToken, job: Job.fromPartial(job) }, timeoutMs, callOptions);
      checkBody(method, res);
    },

    async list(input = {}, callOptions) {
      const method = `${SERVICE}/ListJobs`;
      const request = { authToken, status: input.status ?? "", ...(input.limit === undefined ? {} : { limit: input.limit }) };
      const res = await unaryCall(client, client.listJobs, method, request, timeoutMs, callOptions);
      checkBody(method, res);
      return res.jobs;
    },

    close: () => client.close(),
  };
}
