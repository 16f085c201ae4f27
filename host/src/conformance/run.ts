/**
 * Runs the conformance check: resolves the target, then takes the plugin through the steps a
 * host takes (spawn and port line, Metadata, versions, ConfigSchema, Initialize with real
 * services, Health, RegisterGlyphs, the provider services it announces, HTTP, jobs, WebSocket,
 * Commands, Shutdown and exit) and
 * reports each. A plugin at an address is live: only the calls that read run there unless
 * `reinitialize` is set. Every call has a deadline and every wait a bound, so the check always ends;
 * whatever it started (process group, services, temp database) is gone when it returns.
 *
 * Imports run one way: this file → steps-*.ts → context.ts (the state they share) → calls.ts.
 */
import { CheckRun } from "./context.js";
import { buildReport } from "./report.js";
import { stepConfigSchema, stepInitialize, stepMetadata, stepPortLine, stepQntxVersion, stepVersion } from "./steps-start.js";
import { stepExit, stepShutdown } from "./steps-stop.js";
import { stepCommands, stepGlyphs, stepHealth, stepJobs, stepUnknownJob } from "./steps-calls.js";
import { stepRoutes, stepUnknownPath } from "./steps-http.js";
import { stepProviders } from "./steps-providers.js";
import { stepWebSocket } from "./steps-websocket.js";
import { describeTarget, resolveTarget } from "./target.js";
import type { CheckOptions, CheckReport } from "./types.js";

/** The steps, in the order a host meets them. */
const STEPS: ReadonlyArray<(run: CheckRun) => Promise<void>> = [
  stepPortLine,
  stepMetadata,
  stepVersion,
  stepQntxVersion,
  stepConfigSchema,
  stepInitialize,
  stepHealth,
  stepGlyphs,
  stepProviders,
  stepRoutes,
  stepUnknownPath,
  stepUnknownJob,
  stepJobs,
  stepWebSocket,
  stepCommands,
  stepShutdown,
  stepExit,
];

/**
 * Checks one plugin and returns the report. Throws only for a target that cannot be resolved
 * (QntxError BINARY_NOT_FOUND / INVALID_ARGUMENT); everything the plugin does wrong is a FAIL line.
 */
export async function runCheck(options: CheckOptions): Promise<CheckReport> {
  const target = await resolveTarget(options.target, { cwd: options.cwd, dataDir: options.dataDir });
  const run = new CheckRun(options, target);
  // Ctrl-C mid-check: the plugin runs in its own process group, so it would outlive us.
  const interrupted = (signal: NodeJS.Signals): void => {
    if (run.pid !== undefined && !run.proc?.hasExited) {
      try {
        process.kill(-run.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    run.services?.removeNow();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    for (const step of STEPS) await step(run);
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    await cleanUp(run);
  }
  const plugin = run.metadata ? { name: run.metadata.name, version: run.metadata.version } : null;
  return buildReport(describeTarget(target), target.kind, plugin, run.rec.steps);
}

/** Stops what is left: the process group, the client, the services and their temp folder. */
async function cleanUp(run: CheckRun): Promise<void> {
  run.client?.close();
  if (run.proc) {
    await run.proc.stop(1000);
    await run.proc.reapGroup(1000);
  }
  await run.services?.close();
}
