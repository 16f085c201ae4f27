/**
 * How Pulse runs a job: `ExecuteJob` on the plugin that announced the handler, through the
 * same DomainPlugin interface for built-in and external plugins, with the job's deadline and
 * an abort signal (cancelling a job cancels the gRPC call). A plugin that is not running
 * makes the attempt fail, and Pulse retries it with backoff; jobs of plugins that are not
 * running are not claimed at all (`isAvailable`), so they wait instead of burning attempts.
 */
import type { Executor } from "@qntx/pulse";
import { QntxError } from "@qntx/protocol";
import type { Registry } from "../plugin/registry.js";

/**
 * The Pulse executor for plugins in `registry`. Not an async function: it hands back the
 * proxy's own promise instead of wrapping it in another one (it runs once per job).
 */
export function createJobExecutor(registry: Registry): Executor {
  return (job, call) => {
    const plugin = registry.runningPlugin(job.plugin);
    if (!plugin) return Promise.reject(new QntxError("PLUGIN_UNAVAILABLE", `plugin ${job.plugin} is not running`));
    if (!plugin.executeJob) return Promise.reject(new QntxError("PLUGIN_UNAVAILABLE", `plugin ${job.plugin} does not run jobs`));
    return plugin.executeJob(
      // timeout_secs is an int64 on the wire: a fractional job timeout rounds up.
      { jobId: job.id, handlerName: call.handlerName, payload: job.payload, timeoutSecs: Math.ceil(call.timeoutSecs) },
      { deadline: call.deadline, signal: call.signal },
    );
  };
}

/** Whether jobs of `plugin` may be claimed now: only while it is running (paused or down → they wait). */
export function pluginAvailable(registry: Registry): (plugin: string) => boolean {
  return (plugin) => registry.get(plugin)?.state === "running";
}
