/**
 * `qntx pulse schedules` and `qntx pulse schedule enable|disable <plugin/handler>`: see the
 * schedules plugins announced and switch them. A schedule announced with
 * `enabled_by_default=false` only runs once it is enabled here. The schedules plugins create
 * at run time (ScheduleService) are listed after them, with their id, owner and state.
 */
import type { Command } from "commander";
import { QntxError } from "@qntx/protocol";
import { ControlClient } from "./client.js";
import { clientLocation, runAction } from "./common.js";
import { renderTable } from "./table.js";

/** A schedule as the HTTP API returns it. */
interface ScheduleJson {
  handler: string;
  intervalSeconds: number;
  enabled: boolean;
  description: string;
  nextRunAt: number;
  lastRunAt?: number;
  lastJobId?: string;
}

/** A schedule a plugin created, as `GET /api/pulse/runtime-schedules` returns it. */
interface RuntimeScheduleJson {
  id: string;
  owner: string;
  handler: string;
  intervalSeconds: number;
  state: string;
  nextRunAt: number;
  lastJobId?: string;
}

/** Adds `schedules` and `schedule enable|disable` to the `pulse` command group. */
export function addScheduleCommands(pulse: Command): void {
  pulse
    .command("schedules")
    .description("list the schedules plugins announced (whether each is on, when it runs next) and the ones they created at run time")
    .option("--json", "print JSON")
    .action(runAction(async (options: { json?: boolean }, command: Command) => {
      const client = ControlClient.locate(clientLocation(command));
      const { schedules } = await client.get<{ schedules: ScheduleJson[] }>("/api/pulse/schedules");
      const { schedules: created } = await client.get<{ schedules: RuntimeScheduleJson[] }>("/api/pulse/runtime-schedules");
      if (options.json) return void console.log(JSON.stringify([...schedules, ...created], null, 2));
      if (schedules.length === 0 && created.length === 0) {
        return void console.log("No schedules. A plugin announces them in its Initialize answer, or creates them with ScheduleService.");
      }
      if (schedules.length > 0) {
        console.log(renderTable(["HANDLER", "EVERY", "ENABLED", "NEXT RUN", "LAST JOB", "DESCRIPTION"], schedules.map((s) => [
          s.handler, s.intervalSeconds > 0 ? `${s.intervalSeconds}s` : "off", s.enabled ? "yes" : "no",
          s.enabled && s.intervalSeconds > 0 ? new Date(s.nextRunAt).toISOString() : "-", s.lastJobId ?? "-", s.description,
        ])));
      }
      if (created.length > 0) {
        if (schedules.length > 0) console.log("");
        console.log(renderTable(["ID", "HANDLER", "EVERY", "STATE", "NEXT RUN", "LAST JOB", "OWNER"], created.map((s) => [
          s.id, s.handler, `${s.intervalSeconds}s`, s.state, s.state === "active" ? new Date(s.nextRunAt).toISOString() : "-", s.lastJobId ?? "-", s.owner,
        ])));
      }
    }));

  const schedule = pulse.command("schedule").description("switch a schedule on or off");
  for (const action of ["enable", "disable"] as const) {
    schedule
      .command(`${action} <handler>`)
      .description(action === "enable" ? "turn a schedule on (plugin/handler, as `qntx pulse schedules` lists it)" : "turn a schedule off; a job it already started keeps running")
      .action(runAction(async (handler: string, _options: unknown, command: Command) => {
        const slash = handler.indexOf("/");
        if (slash <= 0 || slash === handler.length - 1) {
          throw new QntxError("INVALID_ARGUMENT", `expected <plugin>/<handler>, got "${handler}"`, { hint: "`qntx pulse schedules` lists them" });
        }
        const client = ControlClient.locate(clientLocation(command));
        const path = `/api/pulse/schedules/${encodeURIComponent(handler.slice(0, slash))}/${encodeURIComponent(handler.slice(slash + 1))}/${action}`;
        const { schedule: updated } = await client.post<{ schedule: ScheduleJson }>(path, {});
        console.log(`${updated.handler}: ${updated.enabled ? "enabled" : "disabled"}`);
      }));
  }
}
