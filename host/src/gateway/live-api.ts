/**
 * The live streams the dashboard (and anyone with curl) listens to, as server-sent events
 * written by event-stream.ts:
 *
 * - `GET /api/host/events`: the registry's typed events (`plugin:added`, `plugin:state`,
 *   `plugin:initialized`, `plugin:health`, `plugin:removed`, each with the plugin's info as it
 *   now is) and Pulse's (`job` for every change of a job, progress included, then the run
 *   events `job:claimed`, `job:completed`, `job:failed`, `job:retried`, `lease:reclaimed`);
 * - `GET /api/attestations/watch?subject=…`: every new attestation matching the same filter
 *   as `GET /api/attestations` (OR within a field, AND across fields), as it is written.
 *
 * Both are reads: open from this machine, the admin token (or a dashboard session) from
 * another (read-guard.ts).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AttestationStore } from "@qntx/ats";
import type { Pulse, PulseEvents, PulseJob } from "@qntx/pulse";
import type { AttestationFilter } from "@qntx/protocol";
import type { PluginEvents } from "../plugin/plugin-info.js";
import type { Registry } from "../plugin/registry.js";
import { hasAdminToken } from "./admin-auth.js";
import { pluginInfoFor } from "./control-api.js";
import { filterFromQuery } from "./data-api.js";
import { openEventStream, type StreamRegistry } from "./event-stream.js";
import { sendError } from "./http-errors.js";
import { attestationView, jobView } from "./json-views.js";

/** What the live routes need. */
export interface LiveApiOptions {
  readonly registry: Registry;
  readonly pulse: Pulse;
  readonly store: AttestationStore;
  readonly adminToken: string;
  /** A stopping host ends the streams through this. */
  readonly drain?: StreamRegistry;
}

const PLUGIN_EVENTS = ["plugin:added", "plugin:state", "plugin:initialized", "plugin:health", "plugin:removed"] as const satisfies ReadonlyArray<keyof PluginEvents>;
const RUN_EVENTS = ["job:claimed", "job:completed", "job:failed", "job:retried", "lease:reclaimed"] as const satisfies ReadonlyArray<keyof PulseEvents>;

type Query = Record<string, string | string[] | undefined>;

/** Registers `/api/host/events` and `/api/attestations/watch`. */
export function registerLiveRoutes(app: FastifyInstance, options: LiveApiOptions): void {
  const { registry, pulse, store } = options;

  app.get("/api/host/events", async (request, reply) => {
    const admin = hasAdminToken(request, options.adminToken);
    reply.hijack();
    const unsubscribe: Array<() => void> = [];
    const stream = openEventStream(reply.raw, { streams: options.drain, onClose: () => unsubscribe.forEach((off) => off()) });
    for (const name of PLUGIN_EVENTS) {
      const listener = (event: { name: string }): void => {
        const info = registry.get(event.name);
        stream.send(name, { ...event, plugin: info ? pluginInfoFor(info, admin) : null });
      };
      registry.on(name, listener);
      unsubscribe.push(() => registry.off(name, listener));
    }
    const onJob = (job: PulseJob): void => void stream.send("job", jobView(job));
    pulse.on("job", onJob);
    unsubscribe.push(() => pulse.off("job", onJob));
    for (const name of RUN_EVENTS) {
      const listener = (event: { job: PulseJob }): void => void stream.send(name, { ...event, job: jobView(event.job) });
      pulse.on(name, listener);
      unsubscribe.push(() => pulse.off(name, listener));
    }
    // The state to start from, so a client need not race a separate GET against the events.
    stream.send("hello", { plugins: registry.list().map((p) => pluginInfoFor(p, admin)) }, true);
    return reply;
  });

  app.get("/api/attestations/watch", async (request: FastifyRequest<{ Querystring: Query }>, reply) => {
    let filter: AttestationFilter;
    try {
      filter = filterFromQuery(request.query);
    } catch (error) {
      return sendError(reply, error);
    }
    reply.hijack();
    let unwatch = (): void => undefined;
    const stream = openEventStream(reply.raw, { streams: options.drain, onClose: () => unwatch() });
    unwatch = store.watch(filter, (attestation) => void stream.send("attestation", attestationView(attestation)));
    return reply;
  });
}
