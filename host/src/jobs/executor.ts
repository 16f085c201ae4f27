/**
 * How Pulse runs a job: `ExecuteJob` on the plugin that announced the handler, through the
 * same DomainPlugin interface for built-in and external plugins, with the job's deadline and
 * an abort signal (cancelling a job cancels the gRPC call). A plugin that is not running
 * makes the attempt fail, and Pulse retries it with backoff; jobs of plugins that are not
 * running, or not answering Health, are not claimed at all (`isAvailable`), so they wait
 * instead of burning attempts.
 */
import { status as grpcStatus } from "@grpc/grpc-js";
import type { Executor } from "@qntx/pulse";
import { QntxError, parseTraceparent } from "@qntx/protocol";
import { PropagatingTracer, type HostTracer } from "../tracing/tracer.js";
import { PluginCallError } from "../plugin/domain-plugin.js";
import type { Registry } from "../plugin/registry.js";
import type { PluginStateChange } from "../plugin/plugin-info.js";

/**
 * How long a failed call waits to learn whether its plugin crashed. gRPC sees the connection
 * drop a moment before the host reaps the process (the exit event, or the pipes closing).
 */
const CRASH_NOTICE_MS = 1500;

/**
 * The Pulse executor for plugins in `registry`. Not an async function on the way in: it hands
 * back the proxy's own promise instead of wrapping it (it runs once per job); only a failed
 * call goes through {@link explainCrash}.
 */
export function createJobExecutor(registry: Registry, tracer: HostTracer = new PropagatingTracer()): Executor {
  return (job, call) => {
    const plugin = registry.runningPlugin(job.plugin);
    if (!plugin) return Promise.reject(new QntxError("PLUGIN_UNAVAILABLE", `plugin ${job.plugin} is not running`));
    if (!plugin.executeJob) return Promise.reject(new QntxError("PLUGIN_UNAVAILABLE", `plugin ${job.plugin} does not run jobs`));
    // Each run is a span of the trace the job was enqueued in (a new trace when none was stored).
    const span = tracer.start(`job ${job.handler}`, "consumer", parseTraceparent(job.traceparent, job.tracestate), { "qntx.job.id": job.id, "qntx.job.attempt": call.attempt });
    return plugin
      .executeJob(
        // timeout_secs is an int64 on the wire: a fractional job timeout rounds up.
        { jobId: job.id, handlerName: call.handlerName, payload: job.payload, timeoutSecs: Math.ceil(call.timeoutSecs) },
        { deadline: call.deadline, signal: call.signal, trace: span.context },
      )
      .then(
        (result) => (span.end(result.success ? undefined : result.error || "the job failed"), result),
        (error: unknown) => {
          span.end(error instanceof Error ? error.message : String(error));
          return explainCrash(registry, job.plugin, error);
        },
      );
  };
}

/**
 * Rethrows a failed ExecuteJob call, saying so when the reason is that the plugin crashed
 * under the job: "Connection dropped" alone does not tell a user that the process died.
 */
async function explainCrash(registry: Registry, plugin: string, error: unknown): Promise<never> {
  if (!(error instanceof PluginCallError) || error.code !== grpcStatus.UNAVAILABLE) throw error;
  const crash = await crashOf(registry, plugin, CRASH_NOTICE_MS);
  if (crash === undefined) throw error;
  throw new QntxError("PLUGIN_UNAVAILABLE", `plugin ${plugin} crashed while running the job: ${crash} (the call failed: ${error.message})`, {
    cause: error,
    hint: `qntx plugin logs ${plugin} shows its last output; the job is retried when attempts are left`,
  });
}

/** Resolves with the reason `plugin` stopped running, when it does within `ms`; else undefined. */
function crashOf(registry: Registry, plugin: string, ms: number): Promise<string | undefined> {
  const reason = (): string | undefined => {
    // A crash leaves the plugin `restarting` (or `failed`, its budget spent) with the reason.
    // A restart, stop or pause by a person leaves no reason: it is not a crash.
    const info = registry.get(plugin);
    return info && (info.state === "failed" || info.state === "restarting") && info.error ? info.error : undefined;
  };
  const now = reason();
  if (now !== undefined) return Promise.resolve(now);
  return new Promise((resolve) => {
    const done = (value: string | undefined): void => {
      clearTimeout(timer);
      registry.off("plugin:state", onState);
      resolve(value);
    };
    // The change carries the reason a crash recorded; a person's restart, stop or pause has none.
    const onState = (change: PluginStateChange): void => {
      if (change.name === plugin && change.state !== "running") done(change.reason);
    };
    const timer = setTimeout(() => done(undefined), ms);
    registry.on("plugin:state", onState);
  });
}

/**
 * Whether jobs of `plugin` may be claimed now: only while it is running and answers its Health
 * calls (paused, down or hung → they wait rather than spend an attempt on its deadline).
 */
export function pluginAvailable(registry: Registry): (plugin: string) => boolean {
  return (plugin) => registry.get(plugin)?.state === "running" && registry.unansweredHealthChecks(plugin) === 0;
}
