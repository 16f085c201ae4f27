/**
 * Stopping, as the host does it: the Shutdown RPC, then the process must exit by itself
 * within the stop budget; otherwise SIGTERM goes to its process group and SIGKILL after a
 * grace period, and the step says which one it took. A plugin at an address is not the
 * check's to stop, so both steps are skipped for it.
 */
import { describeExit } from "../plugin/process.js";
import { exitedDuring, seconds } from "./calls.js";
import type { CheckRun } from "./context.js";

/** Set by {@link stepShutdown} for {@link stepExit}: when the Shutdown call was made. */
const shutdownAt = new WeakMap<CheckRun, number>();

/** The Shutdown RPC answers. */
export async function stepShutdown(run: CheckRun): Promise<void> {
  const title = "Shutdown";
  if (run.target.kind === "address") return run.rec.skip("shutdown", title, "not sent: the plugin at an address keeps running (check its binary to test Shutdown and exit)");
  if (run.skippedAsGone("shutdown", title)) return;
  shutdownAt.set(run, Date.now());
  try {
    await run.client!.call("Shutdown", run.options.callTimeoutMs, (plugin, options) => plugin.shutdown(options));
    run.rec.pass("shutdown", title, "answered");
  } catch (error) {
    // Exiting is what Shutdown asks for: without an answer the host logs the call's error and
    // moves on, so it is a pass with a note, not a failure.
    if (exitedDuring(error)) return run.rec.pass("shutdown", title, `${error.message.split(";")[0]} without answering (answering first is cleaner)`);
    run.failCall("shutdown", title, error, "answer Shutdown, then exit: the host waits for the answer (up to its stop budget) before it signals the process");
  }
}

/** The process exits by itself within the stop budget after Shutdown. */
export async function stepExit(run: CheckRun): Promise<void> {
  const title = "exits after Shutdown";
  const proc = run.proc;
  if (run.target.kind === "address") return run.rec.skip("exit", title, "not checked: the plugin at an address was not spawned by the check");
  if (!proc) return run.rec.skip("exit", title, `not reached: ${run.gone ?? "the plugin did not start"}`);
  const since = shutdownAt.get(run);
  if (since === undefined) {
    return run.rec.skip("exit", title, `not reached: ${run.gone ?? "Shutdown was not sent"}`);
  }
  const budget = run.options.stopTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const exitedInTime = await Promise.race([
    proc.exited.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, since + budget - Date.now())))),
  ]);
  clearTimeout(timer);
  if (exitedInTime) {
    const exit = await proc.exited;
    return run.rec.pass("exit", title, `${describeExit(exit)} after ${seconds(Date.now() - since)}`);
  }
  // What the host does next: SIGTERM to the group, SIGKILL when that is ignored.
  const exit = await proc.stop(Math.min(budget, 2000));
  const how = exit.signal === "SIGKILL" ? "it ignored SIGTERM and was killed with SIGKILL" : `stopped by SIGTERM (${describeExit(exit)})`;
  run.rec.fail("exit", title, `still running ${seconds(budget)} after Shutdown: ${how}`, "exit the process after answering Shutdown (and on SIGTERM): the host signals its process group and kills it after a grace period");
}
