/**
 * Steps for the plain unary calls after Initialize: Health, RegisterGlyphs, ExecuteJob
 * (the error convention for an unknown handler, then each announced handler, run only with
 * `--run-jobs` because jobs may have side effects), and the Commands RPC.
 */
import { status } from "@grpc/grpc-js";
import type { ExecuteJobRequest, ExecuteJobResponse } from "@qntx/protocol";
import { failedWith, seconds } from "./calls.js";
import type { CheckRun } from "./context.js";
import { commandProblems } from "./validate.js";

/** Health answers healthy once initialized. */
export async function stepHealth(run: CheckRun): Promise<void> {
  const title = "Health";
  if (run.skippedAsGone("health", title)) return;
  try {
    const health = await run.client!.call("Health", run.options.callTimeoutMs, (plugin, options) => plugin.health(options));
    if (health.healthy) return run.rec.pass("health", title, `healthy${health.message ? `: ${health.message}` : ""}`);
    run.rec.fail("health", title, `reports unhealthy${health.message ? `: ${health.message}` : ""}`, "answer healthy:true once initialized; the host shows the plugin as unhealthy in qntx plugin list");
  } catch (error) {
    run.failCall("health", title, error, "the host polls Health; missed answers in a row count as a crash and restart the plugin");
  }
}

/** RegisterGlyphs answers (an empty list is fine); every glyph has a symbol. */
export async function stepGlyphs(run: CheckRun): Promise<void> {
  const title = "RegisterGlyphs";
  if (run.skippedAsGone("glyphs", title)) return;
  try {
    const { glyphs } = await run.client!.call("RegisterGlyphs", run.options.callTimeoutMs, (plugin, options) => plugin.registerGlyphs(options));
    const bad = glyphs.filter((g) => !g.symbol.trim());
    if (bad.length) return run.rec.fail("glyphs", title, `${bad.length} of ${glyphs.length} glyphs have no symbol`, "set GlyphDef.symbol for every glyph");
    run.rec.pass("glyphs", title, glyphs.length ? `${glyphs.length} glyph${glyphs.length === 1 ? "" : "s"}: ${glyphs.map((g) => g.symbol).join(" ")}` : "no glyphs");
  } catch (error) {
    if (failedWith(error, status.UNIMPLEMENTED)) return run.rec.skip("glyphs", title, "UNIMPLEMENTED: no glyphs (answering an empty list is the safer choice with QNTX)");
    run.failCall("glyphs", title, error, "answer GlyphDefResponse (an empty list when the plugin has no UI)");
  }
}

/** ExecuteJob of a handler the plugin does not have answers success:false in the body. */
export async function stepUnknownJob(run: CheckRun): Promise<void> {
  const title = "ExecuteJob unknown handler";
  if (run.skippedAsGone("job-unknown", title) || run.skippedAsLive("job-unknown", title)) return;
  const request: ExecuteJobRequest = {
    jobId: `qntx-check-${Date.now()}`, handlerName: "qntx-check-no-such-handler", payload: Buffer.from("{}"),
    timeoutSecs: Math.max(1, Math.ceil(run.options.callTimeoutMs / 1000)),
  };
  let answer: ExecuteJobResponse;
  try {
    answer = await run.client!.call("ExecuteJob", run.options.callTimeoutMs, (plugin, options) => plugin.executeJob(request, options));
  } catch (error) {
    if (failedWith(error, status.UNIMPLEMENTED) && (run.init?.handlerNames.length ?? 0) === 0) {
      return run.rec.skip("job-unknown", title, "UNIMPLEMENTED and no handlers announced: the host never calls ExecuteJob");
    }
    return run.failCall("job-unknown", title, error, "QNTX reads job failures from the body: answer ExecuteJobResponse{success: false, error: \"…\"}, not a gRPC error");
  }
  if (answer.success) return run.rec.fail("job-unknown", title, "success:true for a handler the plugin does not have", "answer success:false with an error naming the handler, so a misrouted job fails visibly");
  if (!answer.error) return run.rec.fail("job-unknown", title, "success:false without an error message", "set ExecuteJobResponse.error: it is what the job's owner reads");
  run.rec.pass("job-unknown", title, `success:false, error "${answer.error}"`);
}

/** Each announced handler: SKIP unless `--run-jobs`; then one run with payload `{}`, answered in the body. */
export async function stepJobs(run: CheckRun): Promise<void> {
  // A live plugin checked without --reinitialize has announced no handlers to us: say why no
  // job runs instead of printing nothing for --run-jobs.
  if (run.options.runJobs && run.skippedAsLive("job", "ExecuteJob announced handlers")) return;
  const handlers = run.init?.handlerNames ?? [];
  for (const handler of handlers) {
    const title = `ExecuteJob ${handler}`;
    if (run.skippedAsGone("job", title)) continue;
    if (!run.options.runJobs) {
      run.rec.skip("job", title, "not run (a job may have side effects); --run-jobs runs each handler once with payload {}");
      continue;
    }
    const jobId = await run.services!.enqueue(run.name, handler).catch(() => `qntx-check-${handler}-${Date.now()}`);
    const timeoutSecs = Math.max(1, Math.ceil(run.options.jobTimeoutMs / 1000));
    try {
      const request: ExecuteJobRequest = { jobId, handlerName: handler, payload: Buffer.from("{}"), timeoutSecs };
      const answer = await run.client!.call(title, run.options.jobTimeoutMs, (plugin, options) => plugin.executeJob(request, options));
      const progress = answer.progressTotal ? `, progress ${answer.progressCurrent}/${answer.progressTotal}` : "";
      run.rec.pass("job", title, answer.success
        ? `success:true, result ${answer.result.length} bytes${progress}${answer.logEntries.length ? `, ${answer.logEntries.length} log entries` : ""}`
        : `answered in the body: success:false, error "${answer.error}" (with payload {})`);
    } catch (error) {
      run.failCall("job", title, error, `answer within timeout_secs (${seconds(timeoutSecs * 1000)} here) and report failures as success:false in the body`);
    }
  }
}

/** The Commands RPC (this host's CLI extension): UNIMPLEMENTED is fine; an answer must be well-formed. */
export async function stepCommands(run: CheckRun): Promise<void> {
  const title = "Commands";
  if (run.skippedAsGone("commands", title)) return;
  try {
    const answer = await run.client!.call("Commands", run.options.callTimeoutMs, (plugin, options) => plugin.commands(options));
    const problems = commandProblems(answer);
    if (problems.length) return run.rec.fail("commands", title, problems.join("; "), "command and flag names are what users type: no whitespace, no leading dash");
    const names = answer.commands.map((c) => c.name);
    run.rec.pass("commands", title, names.length ? `${names.length} command${names.length === 1 ? "" : "s"}: ${names.join(", ")} (not run)` : "no commands");
  } catch (error) {
    if (failedWith(error, status.UNIMPLEMENTED)) return run.rec.skip("commands", title, "UNIMPLEMENTED: no CLI commands (QNTX has no Commands RPC)");
    run.failCall("commands", title, error, "answer CommandsResponse, or UNIMPLEMENTED when the plugin adds no commands");
  }
}
