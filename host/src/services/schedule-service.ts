/**
 * ScheduleService as the host serves it: schedules a plugin creates at run time, on Pulse's
 * scheduler (durable rows: they survive host restarts), listed by `qntx pulse schedules`.
 *
 * Ownership [ours]: a schedule belongs to the plugin that created it (from its token); only
 * that plugin may get, pause, resume or delete it. QNTX shares one token between plugins, so
 * any plugin can touch any schedule there.
 *
 * The handler: `plugin/handler`, or a bare name — the caller's own handler when it has one of
 * that name (or none is registered yet: a plugin may create its schedule inside Initialize,
 * before the host has registered its handlers), else the one plugin that announces it. A
 * schedule fires only while its handler is registered. Its jobs must be allowed by the
 * caller's `enqueue` grant. Errors travel in the body, as QNTX's do.
 */
import { randomBytes } from "node:crypto";
import type { PluginScheduleRecord, PluginScheduleState, Pulse } from "@qntx/pulse";
import { jsonBytesTooDeep, type ScheduleServiceServer, type ScheduledJob } from "@qntx/protocol";
import type { Logger } from "pino";
import { errorText, type Callers } from "./caller.js";
import { PERMISSION_DENIED, type GrantChecker } from "./grants.js";

/** What the service needs. */
export interface ScheduleServiceDeps {
  readonly pulse: Pulse;
  readonly callers: Callers;
  readonly grants?: GrantChecker;
  readonly logger: Logger;
}

/** A body answer: `success` and `error`, plus the call's own fields. */
type Body<E> = E & { success: boolean; error: string };

/** Builds the grpc-js implementation of ScheduleService. */
export function createScheduleService({ pulse, callers, grants, logger }: ScheduleServiceDeps): ScheduleServiceServer {
  /** Runs `work` for the calling plugin and answers; any failure becomes the body's error. */
  const answer = <E extends object>(token: string, empty: E, callback: (error: null, response: Body<E>) => void, work: (plugin: string) => Promise<Partial<E>>): void => {
    const caller = callers.check(token, "schedule");
    if (caller.refused) return callback(null, { ...empty, success: false, error: caller.refused.message });
    work(caller.plugin).then(
      (fields) => callback(null, { ...empty, ...fields, success: true, error: "" }),
      (error: unknown) => {
        logger.debug({ plugin: caller.plugin, err: errorText(error) }, "schedule call refused");
        callback(null, { ...empty, success: false, error: errorText(error) });
      },
    );
  };

  /** The schedule `id` when `plugin` owns it; an unknown id and another plugin's are told apart, as the queue does. */
  const owned = async (plugin: string, id: string, verb: string): Promise<PluginScheduleRecord> => {
    if (!id) throw new Error("schedule_id is required");
    const schedule = await pulse.pluginSchedule(id);
    if (!schedule) throw new Error(`no schedule with id ${id}`);
    if (schedule.owner !== plugin) throw new Error(`${PERMISSION_DENIED}: plugin ${plugin} may not ${verb} schedule ${id}: it belongs to plugin ${schedule.owner}`);
    return schedule;
  };

  const move = (state: PluginScheduleState, verb: string) =>
    (call: { request: { authToken: string; scheduleId: string } }, callback: (error: null, response: Body<object>) => void): void => {
      answer(call.request.authToken, {}, callback, async (plugin) => {
        const schedule = await owned(plugin, call.request.scheduleId, verb);
        if (schedule.state === "deleted") throw new Error(`schedule ${schedule.id} is deleted`);
        await pulse.setPluginScheduleState(schedule.id, state);
        logger.info({ plugin, schedule: schedule.id, state }, `schedule ${verb}d`);
        return {};
      });
    };

  return {
    createSchedule(call, callback) {
      answer(call.request.authToken, { scheduleId: "" }, callback, async (plugin) => {
        const { handlerName, intervalSeconds, payload, metadata } = call.request;
        if (!handlerName) throw new Error("handler_name is required");
        const tooDeep = jsonBytesTooDeep(payload, "the schedule's payload");
        if (tooDeep) throw new Error(tooDeep);
        const handler = scheduledHandler(pulse, plugin, handlerName);
        const refused = grants?.refusal(plugin, "enqueue", handler);
        if (refused) throw new Error(refused);
        const { record, existed } = await pulse.createPluginSchedule({
          id: `sched-${randomBytes(8).toString("hex")}`, owner: plugin, handler, intervalSeconds, payload: Buffer.from(payload),
          metadata: Object.keys(metadata).length > 0 ? JSON.stringify(metadata) : "",
        });
        if (!existed) logger.info({ plugin, schedule: record.id, handler, intervalSeconds }, "schedule created");
        return { scheduleId: record.id };
      });
    },
    pauseSchedule: move("paused", "pause"),
    resumeSchedule: move("active", "resume"),
    deleteSchedule: move("deleted", "delete"),
    getSchedule(call, callback) {
      answer(call.request.authToken, { job: undefined as ScheduledJob | undefined }, callback, async (plugin) => ({
        job: scheduledJob(await owned(plugin, call.request.scheduleId, "read")),
      }));
    },
  };
}

/** The qualified handler a schedule of `plugin` runs (see the file comment). */
export function scheduledHandler(pulse: Pulse, plugin: string, name: string): string {
  if (name.includes("/")) {
    if (pulse.handlers.has(name) || name.startsWith(`${plugin}/`)) return name;
    return pulse.handlers.resolve(name).qualified; // throws UNKNOWN_HANDLER with the known ones
  }
  if (pulse.handlers.has(`${plugin}/${name}`)) return `${plugin}/${name}`;
  try {
    return pulse.handlers.resolve(name).qualified;
  } catch (error) {
    // Not announced by anyone (yet): the caller's own, registered when its Initialize is answered.
    if (error instanceof Error && "code" in error && error.code === "UNKNOWN_HANDLER") return `${plugin}/${name}`;
    throw error;
  }
}

/** A schedule as ScheduleService hands it out (QNTX's ScheduledJob: RFC 3339 times). */
export function scheduledJob(s: PluginScheduleRecord): ScheduledJob {
  const iso = (ms: number | undefined): string => (ms === undefined ? "" : new Date(ms).toISOString());
  return {
    id: s.id, atsCode: "", handlerName: s.handler, payload: s.payload, sourceUrl: "", intervalSeconds: s.intervalSeconds,
    nextRunAt: s.state === "active" ? iso(s.nextRunAt) : "", lastRunAt: iso(s.lastRunAt), lastExecutionId: s.lastJobId ?? "",
    state: s.state, metadata: s.metadata, createdAt: iso(s.createdAt), updatedAt: iso(s.updatedAt), createdFromDoc: "",
  };
}
