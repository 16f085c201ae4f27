/**
 * Shapes shared by the conformance check (`qntx plugin check`): its options, one result per
 * step, and the report. The check drives a plugin through the steps a host takes with it and
 * records a PASS, FAIL or SKIP line for each, so an author in any language can see what a
 * host would trip over before deploying.
 */

/** Outcome of one step. SKIP is neither a pass nor a failure: the step did not apply or was not reached. */
export type StepStatus = "PASS" | "FAIL" | "SKIP";

/** One line of the report. */
export interface StepResult {
  /** Stable id for scripts (`port-line`, `metadata`, `http-full`, …). */
  readonly id: string;
  /** What was checked, for people (`HandleHTTP GET /hello`). */
  readonly title: string;
  readonly status: StepStatus;
  /** One line: what happened. */
  readonly detail: string;
  /** On FAIL: what to change in the plugin; on some SKIPs, how to run the step. */
  readonly hint?: string;
}

/** What `runCheck` needs. Durations are milliseconds. */
export interface CheckOptions {
  /** The command line argument: a binary, script, folder, or `host:port`. */
  readonly target: string;
  /** Arguments for a spawned plugin, after `--port N` (as `args` in am.plugins.toml). */
  readonly args: readonly string[];
  /** Expected plugin name (`--name`); Metadata must answer it. */
  readonly name?: string;
  /** Config sent in Initialize (`--config key=value`), checked against ConfigSchema first. */
  readonly config: Readonly<Record<string, string>>;
  /** Run each announced job handler once with payload `{}` (off by default: side effects). */
  readonly runJobs: boolean;
  /**
   * For a `host:port` target: send Initialize (with the check's temporary services) and run
   * the steps that need it. Off by default: it re-initializes a live plugin that its host
   * already set up. Spawned plugins are always initialized.
   */
  readonly reinitialize?: boolean;
  /** Deadline of each call. */
  readonly callTimeoutMs: number;
  /** Deadline of each job run with `runJobs` (also sent as `timeout_secs`). */
  readonly jobTimeoutMs: number;
  /** How long to wait for `QNTX_PLUGIN_PORT=` (QNTX: 2 s). */
  readonly portLineTimeoutMs: number;
  /** How long to poll Metadata before giving up (QNTX: 5 s). */
  readonly readyTimeoutMs: number;
  /** How long the process may take to exit after Shutdown. */
  readonly stopTimeoutMs: number;
  /** First port probed for `--port` (the host's plugin_base_port). */
  readonly basePort: number;
  /** Where binaries are looked up besides the working folder (`<data_dir>/plugins`). */
  readonly dataDir: string;
  /** Folder relative targets are resolved against. */
  readonly cwd: string;
}

/** What `runCheck` returns. */
export interface CheckReport {
  readonly target: string;
  /** How the target was reached: spawned (with the command line) or dialled. */
  readonly kind: "spawned" | "address";
  readonly plugin: { readonly name: string; readonly version: string } | null;
  readonly steps: readonly StepResult[];
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  /** No step failed. */
  readonly ok: boolean;
}
