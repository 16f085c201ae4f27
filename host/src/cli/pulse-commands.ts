/**
 * `qntx pulse …`: enqueue jobs (optionally waiting with a live progress bar), list, inspect,
 * cancel and retry them, list and switch schedules, show the budget, through the running
 * host's HTTP API.
 */
import type { Command } from "commander";
import { QntxError } from "@qntx/protocol";
import { ControlClient } from "./client.js";
import { clientLocation, runAction } from "./common.js";
import { addScheduleCommands } from "./schedule-commands.js";
import { progressBar, renderTable } from "./table.js";

/** A job as the HTTP API returns it. */
interface JobJson {
  id: string;
  handler: string;
  status: string;
  attempts: number;
  maxAttempts: number;
  progress: { current: number; total: number };
  costActual: number;
  error: string;
  payload: unknown;
  result: unknown;
  pluginVersion: string;
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
  logs?: Array<{ timestamp: string; level: string; message: string; stage: string }>;
}

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

/** Adds the `pulse` command group to `program`. */
export function addPulseCommands(program: Command): void {
  const pulse = program.command("pulse").description("Pulse, the job queue: enqueue, list, inspect, cancel and retry jobs");

  pulse
    .command("enqueue <handler>")
    .description("enqueue a job for <handler> (plugin/handler, or a name only one plugin announces)")
    .option("--payload <json>", "the job's payload, as JSON")
    .option("--wait", "wait for the job to end, with a live progress bar, then print its result")
    .option("--priority <n>", "higher runs first (default 0)")
    .option("--max-attempts <n>", "attempts before the job fails (default from the host)")
    .option("--timeout <seconds>", "the job's deadline (default from the host)")
    .action(runAction(async (handler: string, options: { payload?: string; wait?: boolean; priority?: string; maxAttempts?: string; timeout?: string }, command: Command) => {
      const client = ControlClient.locate(clientLocation(command));
      const { job } = await client.post<{ job: JobJson }>("/api/pulse/jobs", {
        handler, payload: parsePayload(options.payload), priority: options.priority, max_attempts: options.maxAttempts, timeout_secs: options.timeout, source: "cli",
      });
      if (!options.wait) return void console.log(job.id);
      const last = await waitForJob(client, job.id);
      if (last.status === "completed") console.log(JSON.stringify(last.result, null, 2) ?? "null");
      else {
        console.error(`job ${last.id} ${last.status}${last.error ? `: ${last.error}` : ""}`);
        process.exitCode = 1;
      }
    }));

  pulse
    .command("list")
    .description("list jobs, newest first")
    .option("--status <status>", "queued, running, paused, completed, failed or cancelled")
    .option("--limit <n>", "at most n jobs", "50")
    .option("--json", "print JSON")
    .action(runAction(async (options: { status?: string; limit: string; json?: boolean }, command: Command) => {
      const client = ControlClient.locate(clientLocation(command));
      const query = new URLSearchParams({ limit: options.limit });
      if (options.status) query.set("status", options.status);
      const { jobs } = await client.get<{ jobs: JobJson[] }>(`/api/pulse/jobs?${query}`);
      if (options.json) return void console.log(JSON.stringify(jobs, null, 2));
      if (jobs.length === 0) return void console.log("No jobs.");
      console.log(renderTable(["ID", "HANDLER", "STATUS", "ATTEMPTS", "PROGRESS", "CREATED", "ERROR"], jobs.map((j) => [
        j.id, j.handler, j.status, `${j.attempts}/${j.maxAttempts}`, progressText(j), new Date(j.createdAt).toISOString(), j.error ? truncate(j.error, 60) : "",
      ])));
    }));

  pulse
    .command("get <id>")
    .description("show one job with its result and logs")
    .option("--json", "print JSON")
    .action(runAction(async (id: string, options: { json?: boolean }, command: Command) => {
      const client = ControlClient.locate(clientLocation(command));
      const { job } = await client.get<{ job: JobJson }>(`/api/pulse/jobs/${encodeURIComponent(id)}`);
      if (options.json) return void console.log(JSON.stringify(job, null, 2));
      const lines = [
        `id:        ${job.id}`,
        `handler:   ${job.handler}`,
        `status:    ${job.status}`,
        `attempts:  ${job.attempts}/${job.maxAttempts}`,
        `progress:  ${progressText(job)}`,
        `cost:      ${job.costActual}`,
        `plugin:    ${job.pluginVersion || "-"}`,
        `payload:   ${JSON.stringify(job.payload)}`,
        `result:    ${JSON.stringify(job.result)}`,
      ];
      if (job.error) lines.push(`error:     ${job.error}`);
      console.log(lines.join("\n"));
      if (job.logs?.length) {
        console.log("\nlogs:");
        for (const log of job.logs) console.log(`  ${log.timestamp} ${log.level.padEnd(5)} ${log.stage ? `[${log.stage}] ` : ""}${log.message}`);
      }
    }));

  for (const action of ["cancel", "retry"] as const) {
    pulse
      .command(`${action} <id>`)
      .description(action === "cancel" ? "cancel a job (a running one is stopped in its plugin)" : "re-queue a failed or cancelled job")
      .action(runAction(async (id: string, _options: unknown, command: Command) => {
        const client = ControlClient.locate(clientLocation(command));
        const { job } = await client.post<{ job: JobJson }>(`/api/pulse/jobs/${encodeURIComponent(id)}/${action}`, {});
        console.log(`${job.id}: ${job.status}`);
      }));
  }

  pulse
    .command("budget")
    .description("spend and what is left per budget window ([pulse] daily/weekly/monthly_budget_usd: sliding 24 h, 7 d, 30 d)")
    .option("--json", "print JSON")
    .action(runAction(async (options: { json?: boolean }, command: Command) => {
      const client = ControlClient.locate(clientLocation(command));
      const budget = await client.get<{ windows: BudgetWindowJson[]; overBudget: string }>("/api/pulse/budget");
      if (options.json) return void console.log(JSON.stringify(budget, null, 2));
      const usd = (n: number | null): string => (n === null ? "no limit" : `$${n.toFixed(6)}`);
      console.log(renderTable(["WINDOW", "LIMIT", "SPENT", "LEFT", "SPENDS", "SET BY"], budget.windows.map((w) => [
        `${w.window} (${w.hours} h)`, usd(w.limitUsd), usd(w.spentUsd), w.limitUsd === null ? "-" : usd(w.remainingUsd), String(w.operations), `[pulse] ${w.key}`,
      ])));
      console.log(`\nA job over budget ${budget.overBudget === "fail" ? "fails" : "waits until its window frees up"} ([pulse] over_budget = "${budget.overBudget}").`);
    }));

  addScheduleCommands(pulse);
}

/** A budget window as `GET /api/pulse/budget` returns it. */
interface BudgetWindowJson {
  window: string;
  key: string;
  hours: number;
  limitUsd: number | null;
  spentUsd: number;
  remainingUsd: number | null;
  operations: number;
}

/** Follows the job's events until it ends, drawing progress on stderr. */
async function waitForJob(client: ControlClient, id: string): Promise<JobJson> {
  const tty = Boolean(process.stderr.isTTY);
  let last: JobJson | undefined;
  let lastLine = "";
  await client.events(`/api/pulse/jobs/${encodeURIComponent(id)}/events`, (_event, data) => {
    last = data as JobJson;
    const line = `${last.status.padEnd(9)} ${jobBar(last)} attempt ${last.attempts}/${last.maxAttempts}`;
    if (tty) process.stderr.write(`\r${line}\x1b[K`);
    else if (line !== lastLine) process.stderr.write(`${line}\n`);
    lastLine = line;
    return TERMINAL.has(last.status);
  });
  if (tty) process.stderr.write("\n");
  if (!last) throw new QntxError("PLUGIN_UNAVAILABLE", `the host sent no events for job ${id}`);
  return last;
}

function jobBar(job: JobJson): string {
  return progressBar(job.progress.current, job.progress.total);
}

function progressText(job: JobJson): string {
  return job.progress.total > 0 ? `${job.progress.current}/${job.progress.total}` : job.progress.current ? String(job.progress.current) : "-";
}

function parsePayload(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new QntxError("INVALID_ARGUMENT", `--payload is not JSON: ${(error as Error).message}`, { hint: `--payload '{"n": 3}'` });
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
