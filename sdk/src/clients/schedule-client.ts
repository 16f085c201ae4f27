/**
 * `ScheduleClient`: the host's ScheduleService (schedule.proto): recurring jobs a plugin
 * creates at run time. A schedule belongs to the plugin that created it (on this host, only it
 * may read or change it). Errors are {@link HostServiceError}s: `HOST_ERROR` with the host's
 * message (`success:false`), `HOST_CALL_FAILED` on a gRPC status.
 */
import { ScheduleServiceClient, type ScheduledJob } from "@qntx/protocol";
import { checkBody, DEFAULT_HOST_CALL_TIMEOUT_MS, HostServiceError, unaryCall, hostClient, type HostCallOptions, type HostClientOptions } from "./call.js";
import { encodeJsonPayload } from "./queue-client.js";

/** What {@link ScheduleClient.create} needs. */
export interface ScheduleInput {
  /** The handler run on each tick: one of the plugin's own (`resize`), or `plugin/handler`. */
  handler: string;
  /** Seconds between runs (at least 1). */
  intervalSeconds: number;
  /** The payload of every job it enqueues: sent as JSON; bytes as they are. */
  payload?: unknown;
  /** Free-form labels kept with the schedule. */
  metadata?: Record<string, string>;
}

/** The host's schedules. */
export interface ScheduleClient {
  readonly endpoint: string;
  /** Creates a schedule and resolves with its id (an identical active one is returned instead of a second). */
  create(input: ScheduleInput, options?: HostCallOptions): Promise<string>;
  pause(id: string, options?: HostCallOptions): Promise<void>;
  resume(id: string, options?: HostCallOptions): Promise<void>;
  /** Deletes it: it fires no more (`get` then shows it `deleted`). */
  delete(id: string, options?: HostCallOptions): Promise<void>;
  /** The schedule, with its state (`active`, `paused`, `deleted`) and next run (RFC 3339). */
  get(id: string, options?: HostCallOptions): Promise<ScheduledJob>;
  close(): void;
}

const SERVICE = "ScheduleService";

/** A client of the ScheduleService at `endpoint` that sends `authToken` with every call. */
export function createScheduleClient(endpoint: string, authToken: string, options: HostClientOptions = {}): ScheduleClient {
  const client = hostClient(ScheduleServiceClient, endpoint, options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_HOST_CALL_TIMEOUT_MS;
  const move = (rpc: "pauseSchedule" | "resumeSchedule" | "deleteSchedule", name: string) => async (id: string, callOptions?: HostCallOptions): Promise<void> => {
    const method = `${SERVICE}/${name}`;
    checkBody(method, await unaryCall(client, client[rpc], method, { authToken, scheduleId: id }, timeoutMs, callOptions));
  };
  return {
    endpoint,
    async create(input, callOptions) {
      const method = `${SERVICE}/CreateSchedule`;
      const request = { authToken, handlerName: input.handler, intervalSeconds: input.intervalSeconds, payload: encodeJsonPayload(input.payload), metadata: input.metadata ?? {} };
      const res = await unaryCall(client, client.createSchedule, method, request, timeoutMs, callOptions);
      checkBody(method, res);
      return res.scheduleId;
    },
    pause: move("pauseSchedule", "PauseSchedule"),
    resume: move("resumeSchedule", "ResumeSchedule"),
    delete: move("deleteSchedule", "DeleteSchedule"),
    async get(id, callOptions) {
      const method = `${SERVICE}/GetSchedule`;
      const res = await unaryCall(client, client.getSchedule, method, { authToken, scheduleId: id }, timeoutMs, callOptions);
      checkBody(method, res);
      if (!res.job) throw new HostServiceError("HOST_ERROR", method, `the host answered success without schedule ${id}`);
      return res.job;
    },
    close: () => client.close(),
  };
}
