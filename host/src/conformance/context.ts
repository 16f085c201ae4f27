/**
 * The state the conformance steps share while one check runs ({@link CheckRun}): the target,
 * the calls into the plugin, what it answered so far, and the recorder of PASS/FAIL/SKIP
 * lines. run.ts makes one and hands it to each step; the steps import only this file, never
 * run.ts, so imports run one way.
 */
import type { InitializeResponse, MetadataResponse } from "@qntx/protocol";
import type { PluginProcess } from "../plugin/process.js";
import { exitedDuring, type CheckCalls } from "./calls.js";
import { StepRecorder } from "./report.js";
import type { CheckServices } from "./services.js";
import type { CheckTarget } from "./target.js";
import type { CheckOptions } from "./types.js";

/** State the steps share while one check runs. */
export class CheckRun {
  readonly rec = new StepRecorder();
  client: CheckCalls | undefined;
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
    const message = error instanceof Error ? error.message : String(error);
    if (exitedDuring(error)) {
      this.gone = message.split(";")[0];
      this.rec.fail(id, title, message, "the host restarts a plugin that exits; run it by hand with --port to see why it stopped");
    } else {
      this.rec.fail(id, title, message, hint);
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
