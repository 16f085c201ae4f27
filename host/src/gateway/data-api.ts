/**
 * The HTTP API over the host's shared data: attestations (`/api/attestations`) and Pulse jobs
 * (`/api/pulse/…`). Reads are open from this machine (read-guard.ts); writes and job actions need the
 * admin token. `GET /api/pulse/jobs/<id>/events` streams a job's changes (SSE, event-stream.ts) until it ends.
 * `POST /api/pulse/schedules/<plugin>/<handler>/enable|disable` switches a schedule.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AttestationStore } from "@qntx/ats";
import { TERMINAL_STATUSES, isJobStatus, type Pulse, type PulseJob } from "@qntx/pulse";
import { QntxError, type AttestationFilter } from "@qntx/protocol";
import { requireAdmin } from "./admin-auth.js";
import { sendError } from "./http-errors.js";
import { attestationView, jobView } from "./json-views.js";
import { openEventStream, type StreamRegistry } from "./event-stream.js";

/** What the data routes need. */
export interface DataApiOptions {
  readonly store: AttestationStore;
  readonly pulse: Pulse;
  readonly adminToken: string;
  readonly adminTokenFile: string;
  /** Where job-event streams register, so a stopping host ends them. */
  readonly drain?: StreamRegistry;
}

type Query = Record<string, string | string[] | undefined>;
/** Attestations `GET /api/attestations` returns when the request sets no limit. */
const DEFAULT_HTTP_LIMIT = 1000;
const JOB_ACTIONS = ["cancel", "retry", "pause", "resume"] as const;

/** Registers the attestation and Pulse routes. */
export function registerDataRoutes(app: FastifyInstance, options: DataApiOptions): void {
  const { store, pulse } = options;
  const admin = (request: FastifyRequest, reply: FastifyReply) => requireAdmin(request, reply, options.adminToken, options.adminTokenFile);
  const guard = async (reply: FastifyReply, work: () => Promise<unknown> | unknown) => {
    try {
      return await work();
    } catch (error) {
      // Store and queue errors carry their own catalogue codes: the caller's mistakes are 4xx.
      return sendError(reply, error);
    }
  };

  app.get("/api/attestations", (request: FastifyRequest<{ Querystring: Query }>, reply) =>
    guard(reply, async () => ({ attestations: (await store.query(filterFromQuery(request.query))).map(attestationView) })));

  app.post("/api/attestations", (request: FastifyRequest<{ Body: Record<string, unknown> }>, reply) => {
    if (!admin(request, reply)) return reply;
    return guard(reply, async () => {
      const body = request.body ?? {};
      const attestation = await store.generateAndCreate(
        {
          subjects: strings(body.subjects, "subjects"), predicates: strings(body.predicates, "predicates"), contexts: strings(body.contexts, "contexts"),
          actors: strings(body.actors, "actors"), timestamp: optionalNumber(body.timestamp, "timestamp"),
          attributes: (body.attributes as Record<string, unknown> | undefined) ?? undefined, source: typeof body.source === "string" ? body.source : "", sourceVersion: "",
        },
        { source: "api" },
      );
      return reply.code(201).send({ attestation: attestationView(attestation) });
    });
  });

  app.get("/api/pulse/jobs", (request: FastifyRequest<{ Querystring: Query }>, reply) =>
    guard(reply, async () => {
      const status = single(request.query.status) ?? "";
      if (status && !isJobStatus(status)) throw new QntxError("INVALID_ARGUMENT", `unknown status "${status}"`, { hint: "queued, running, paused, completed, failed or cancelled" });
      const jobs = await pulse.list({ status: status || undefined, limit: optionalNumber(single(request.query.limit), "limit") });
      return { jobs: jobs.map(jobView) };
    }));

  app.get("/api/pulse/jobs/:id", (request: FastifyRequest<{ Params: { id: string } }>, reply) =>
    guard(reply, async () => ({ job: jobView(await requireJob(pulse, request.params.id)) })));

  app.post("/api/pulse/jobs", (request: FastifyRequest<{ Body: Record<string, unknown> }>, reply) => {
    if (!admin(request, reply)) return reply;
    return guard(reply, async () => {
      const body = request.body ?? {};
      if (typeof body.handler !== "string" || !body.handler) throw new QntxError("INVALID_ARGUMENT", "handler is required", { hint: 'POST {"handler": "plugin/name", "payload": {…}}' });
      const job = await pulse.enqueue({
        handler: body.handler, payload: body.payload as object | undefined, source: typeof body.source === "string" ? body.source : "api",
        priority: optionalNumber(body.priority, "priority"), maxAttempts: optionalNumber(body.max_attempts, "max_attempts"),
        timeoutSecs: optionalNumber(body.timeout_secs, "timeout_secs"),
      });
      return reply.code(201).send({ job: jobView(job) });
    });
  });

  app.post("/api/pulse/jobs/:id/:action", (request: FastifyRequest<{ Params: { id: string; action: string } }>, reply) => {
    if (!admin(request, reply)) return reply;
    const action = request.params.action as (typeof JOB_ACTIONS)[number];
    if (!JOB_ACTIONS.includes(action)) return sendError(reply, new QntxError("INVALID_ARGUMENT", `unknown job action "${action}"`, { hint: JOB_ACTIONS.join(", ") }));
    return guard(reply, async () => {
      await requireJob(pulse, request.params.id);
      return { job: jobView(await pulse[action](request.params.id)) };
    });
  });

  app.get("/api/pulse/jobs/:id/events", async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const id = request.params.id;
    let job: PulseJob;
    try {
      job = await requireJob(pulse, id);
    } catch (error) {
      return sendError(reply, error);
    }
    streamJobEvents(reply, pulse, job, options.drain);
    return reply;
  });

  app.get("/api/pulse/handlers", async () => ({ handlers: pulse.handlers.list() }));
  app.get("/api/pulse/schedules", async () => ({ schedules: await pulse.schedules() }));

  // A schedule announced with enabled_by_default=false stays off until someone turns it on here;
  // the choice is stored, so a plugin restart (which re-announces its schedules) keeps it.
  app.post("/api/pulse/schedules/:plugin/:handler/:action", (request: FastifyRequest<{ Params: { plugin: string; handler: string; action: string } }>, reply) => {
    if (!admin(request, reply)) return reply;
    const { plugin, handler, action } = request.params;
    return guard(reply, async () => {
      if (action !== "enable" && action !== "disable") {
        throw new QntxError("INVALID_ARGUMENT", `unknown schedule action "${action}"`, { hint: "use enable or disable" });
      }
      const qualified = `${plugin}/${handler}`;
      const known = await pulse.schedules();
      if (!known.some((s) => s.handler === qualified)) {
        throw new QntxError("NOT_FOUND", `no schedule for handler ${qualified}`, {
          hint: known.length > 0 ? `schedules: ${known.map((s) => s.handler).join(", ")}` : "no plugin has announced a schedule",
        });
      }
      return { schedule: await pulse.scheduler.setEnabled(qualified, action === "enable") };
    });
  });
}

/** Server-sent events: the job now, then every change, ending after a terminal state. */
function streamJobEvents(reply: FastifyReply, pulse: Pulse, first: PulseJob, streams?: StreamRegistry): void {
  reply.hijack();
  const onJob = (job: PulseJob): void => {
    if (job.id !== first.id) return;
    // A progress update may be dropped for a slow reader; the end never is.
    if (TERMINAL_STATUSES.has(job.status)) stream.close({ event: "job", data: jobView(job) });
    else stream.send("job", jobView(job));
  };
  // A stopping host ends the stream (the job may outlive the host: it is re-queued, not ended).
  const stream = openEventStream(reply.raw, { streams, onClose: () => pulse.off("job", onJob) });
  pulse.on("job", onJob);
  onJob(first);
}

async function requireJob(pulse: Pulse, id: string) {
  const job = await pulse.get(id);
  if (!job) throw new QntxError("NOT_FOUND", `no job with id ${id}`, { hint: "GET /api/pulse/jobs lists jobs" });
  return job;
}

/** `?subject=a&subject=b&predicate=…&since=…&until=…&limit=…` → AttestationFilter. */
export function filterFromQuery(query: Query): AttestationFilter {
  return {
    subjects: many(query.subject), predicates: many(query.predicate), contexts: many(query.context), actors: many(query.actor),
    timeStart: optionalTime(single(query.since), "since"), timeEnd: optionalTime(single(query.until), "until"),
    // Unbounded reads of the whole store over HTTP are opt-in (limit=0), not the default.
    limit: optionalNumber(single(query.limit), "limit") ?? DEFAULT_HTTP_LIMIT,
  };
}

function many(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(",")).filter((v) => v !== "");
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[value.length - 1] : value;
}

function optionalNumber(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new QntxError("INVALID_ARGUMENT", `${name} must be a number (got ${JSON.stringify(value)})`);
  return n;
}

/** Unix ms, or an ISO 8601 date. */
function optionalTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  if (/^-?\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new QntxError("INVALID_ARGUMENT", `${name} must be unix milliseconds or an ISO 8601 date (got "${value}")`);
  return ms;
}

function strings(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  throw new QntxError("INVALID_ARGUMENT", `${name} must be a string or an array of strings`);
}
