/**
 * Runs the conformance check: resolves the target, then takes the plugin through the steps a
 * host takes (spawn and port line, Metadata, versions, ConfigSchema, Initialize with real
 * services, Health, RegisterGlyphs, HTTP, jobs, WebSocket, Commands, Shutdown and exit) and
 * reports each. A plugin at an address is live: only the calls that read run there unless
 * `reinitialize` is set. Every call has a deadline and every wait a bound, so the check always ends;
 * whatever it started (process group, services, temp database) is gone when it returns.
 */
import type { InitializeResponse, MetadataResponse } from "@qntx/protocol";
import type { PluginProcess } from "../plugin/process.js";
import { CallFailure, type CheckClient } from "./client.js";
import { StepRecorder, buildReport } from "./report.js";
import type { CheckServices } from "./services.js";
import { stepConfigSchema, stepInitialize, stepMetadata, stepPortLine, stepQntxVersion, stepVersion } from "./steps-start.js";
import { stepExit, stepShutdown } from "./steps-stop.js";
import { stepCommands, stepGlyphs, stepHealth, stepJobs, stepUnknownJob } from "./steps-calls.js";
import { stepRoutes, stepUnknownPath } from "./steps-http.js";
import { stepWebSocket } from "./steps-websocket.js";
import { describeTarget, resolveTarget, type CheckTarget } from "./target.js";
import type { CheckOptions, CheckReport } from "./types.js";

/** State the steps share while one check runs. */
export class CheckRun {
  readonly rec = new StepRecorder();
  client: CheckClient | undefined;
  proc: PluginProcess | undefined;
  /** Pid (and process group) of the spawned plugin, known as soon as it is spawned. */
  pid: number | undefined;
  /** The `--port` the plugin was given (spawned targets). */
  requestedPort: number | undefined;
  /** A port line that came after the timeout (the host switches to it; so does the check). */
  latePort: Promise<number> | undefined;
  services: CheckServices | undefined;
  metadata: MetadataResponse | undefined;
  /** Config for Initialize: the `--config` values, with schema defaults filled in. */
  config: Record<string, string>;
  init: InitializeResponse | undefined;
  /** Why the plugin can no longer be called (it exited, or never answered); later steps SKIP. */
  gone: string | undefined;

  constructor(readonly options: CheckOptions, readonly target: CheckTarget) {
    this.config = { ...options.config };
  }

  /** The plugin's name: what Metadata answered, else `--name`, else "plugin". */
  get name(): string {
    return this.metadata?.name || this.options.name || "plugin";
  }

  /**
   * Records a FAIL for a failed call; when the process exited during it, later steps are
   * skipped with that reason.
   */
  failCall(id: string, title: string, error: unknown, hint?: string): void {
    const failure = error instanceof CallFailure ? error : new CallFailure(error instanceof Error ? error.message : String(error));
    if (failure.exited) {
      this.gone = failure.message.split(";")[0];
      this.rec.fail(id, title, failure.message, "the host restarts a plugin that exits; run it by hand with --port to see why it stopped");
    } else {
      this.rec.fail(id, title, failure.message, hint);
    }
  }

  /**
   * Records a SKIP for a step that changes the state of a live plugin at an address (Initialize
   * and what needs it: HTTP, jobs, WebSocket) unless `--reinitialize` was given; true when it
   * did (the step should return). Metadata, ConfigSchema, Health, RegisterGlyphs and the
   * Commands listing only read, so they always run.
   */
  skippedAsLive(id: string, title: string): boolean {
    if (this.target.kind !== "address" || this.options.reinitialize) return false;
    const where = this.target.address;
    const detail = id === "initialize"
      ? `not sent: it would re-initialize the live plugin at ${where} with the check's temporary services`
      : `not run: it needs Initialize, which was not sent to the live plugin at ${where}`;
    this.rec.skip(id, title, detail, "add --reinitialize to run it (then restart the plugin from its host), or check the plugin's binary instead of its address");
    return true;
  }

  /** Records a SKIP when the plugin is gone; true when it did (the step should return). */
  skippedAsGone(id: string, title: string): boolean {
    if (!this.gone) return false;
    this.rec.skip(id, title, `not reached: ${this.gone}`);
    return true;
  }
}

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
