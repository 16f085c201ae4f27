/**
 * ScheduleService through real plugin processes: a plugin creates, reads, pauses, resumes and
 * deletes its own schedules; another plugin cannot touch them; a bad token is refused in the
 * body; the schedule fires its handler with its payload, survives a host restart, and is listed
 * by `qntx pulse schedules`.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { pino } from "pino";
import { loadConfig } from "../src/config/index.js";
import { startHost, type Host } from "../src/server.js";
import { CLI, hostTable, http, until } from "./harness.js";
import { callService, callerTable } from "./helpers/mesh.js";

const dir = mkdtempSync(join(tmpdir(), "qntx-schedules-"));
let host: Host;

/** Starts a host on the test's folder (the same data dir each time). */
async function start(): Promise<Host> {
  const started = await startHost(loadConfig({ configPath: join(dir, "am.plugins.toml") }), pino({ level: "silent" }));
  await started.ready;
  return started;
}

const call = (caller: string, method: string, request: object, token?: string) => callService(host.url, caller, "ScheduleService", method, request, { token });
const payload = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64");

beforeAll(async () => {
  writeFileSync(join(dir, "am.plugins.toml"), `${await hostTable(dir)}\n${callerTable("owner")}\n${callerTable("other")}\n`);
  host = await start();
});

afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a plugin's own schedules", () => {
  let id = "";

  it("creates one on its own handler, and reads it back", async () => {
    const created = await call("owner", "CreateSchedule", { handlerName: "tick", intervalSeconds: 1, payload: payload({ n: 1 }), metadata: { glyph: "g1" } });
    expect(created).toMatchObject({ ok: true, response: { success: true, error: "" } });
    id = created.response.scheduleId;
    expect(id).toMatch(/^sched-[0-9a-f]{16}$/);
    const got = await call("owner", "GetSchedule", { scheduleId: id });
    expect(got.response).toMatchObject({ success: true, job: { id, handlerName: "owner/tick", intervalSeconds: 1, state: "active", metadata: '{"glyph":"g1"}' } });
    expect(Buffer.from(got.response.job.payload, "base64").toString()).toBe('{"n":1}');
  });

  it("returns the same schedule when the same one is created again", async () => {
    const again = await call("owner", "CreateSchedule", { handlerName: "owner/tick", intervalSeconds: 1, payload: payload({ n: 1 }) });
    expect(again.response.scheduleId).toBe(id);
  });

  it("fires its handler with its payload", async () => {
    const ran = await until(async () => {
      const { ran } = (await http(`${host.url}/api/owner/ran`)).json();
      return ran.length > 0 ? ran : undefined;
    }, "the schedule to run tick");
    expect(ran[0]).toMatchObject({ handler: "tick", payload: '{"n":1}' });
  });

  it("is the owner's alone: another plugin may not read, pause or delete it", async () => {
    for (const method of ["GetSchedule", "PauseSchedule", "ResumeSchedule", "DeleteSchedule"]) {
      const refused = await call("other", method, { scheduleId: id });
      expect(refused.response).toMatchObject({ success: false });
      expect(refused.response.error).toMatch(new RegExp(`^PERMISSION_DENIED: plugin other may not \\w+ schedule ${id}: it belongs to plugin owner$`));
    }
    expect((await call("owner", "GetSchedule", { scheduleId: id })).response.job.state).toBe("active");
  });

  it("refuses a bad token and an unknown id in the body", async () => {
    expect((await call("owner", "PauseSchedule", { scheduleId: id }, "forged")).response).toEqual({ success: false, error: "invalid authentication token" });
    expect((await call("owner", "GetSchedule", { scheduleId: "sched-nope" })).response).toMatchObject({ success: false, error: "no schedule with id sched-nope" });
  });

  it("refuses a handler no plugin announces, unless it is the caller's own", async () => {
    const ghost = await call("owner", "CreateSchedule", { handlerName: "ghost/run", intervalSeconds: 5 });
    expect(ghost.response.success).toBe(false);
    expect(ghost.response.error).toContain('unknown handler "ghost/run"');
    expect((await call("owner", "CreateSchedule", { handlerName: "tick", intervalSeconds: 0 })).response.error).toContain("interval_seconds must be a whole number of seconds >= 1");
  });

  it("pauses, resumes and deletes it", async () => {
    expect((await call("owner", "PauseSchedule", { scheduleId: id })).response).toEqual({ success: true, error: "" });
    expect((await call("owner", "GetSchedule", { scheduleId: id })).response.job).toMatchObject({ state: "paused", nextRunAt: "" });
    expect((await call("owner", "ResumeSchedule", { scheduleId: id })).response.success).toBe(true);
    expect((await call("owner", "GetSchedule", { scheduleId: id })).response.job.state).toBe("active");
    expect((await call("owner", "DeleteSchedule", { scheduleId: id })).response.success).toBe(true);
    expect((await call("owner", "GetSchedule", { scheduleId: id })).response.job.state).toBe("deleted");
    expect((await call("owner", "ResumeSchedule", { scheduleId: id })).response).toMatchObject({ success: false, error: `schedule ${id} is deleted` });
  });
});

describe("across a restart", () => {
  it("keeps a schedule, lists it in qntx pulse schedules, and fires it again", async () => {
    const created = await call("other", "CreateSchedule", { handlerName: "tick", intervalSeconds: 1, payload: payload("again") });
    const id = created.response.scheduleId as string;
    await host.close();
    host = await start();
    const cli = await execa(process.execPath, [CLI, "--data-dir", join(dir, "data"), "pulse", "schedules"], { reject: false });
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout).toContain(id);
    expect(cli.stdout).toMatch(new RegExp(`${id}\\s+other/tick\\s+1s\\s+active`));
    const { schedules } = (await http(`${host.url}/api/pulse/runtime-schedules`)).json();
    expect(schedules.find((s: { id: string }) => s.id === id)).toMatchObject({ owner: "other", handler: "other/tick", state: "active", payload: "again" });
    await until(async () => {
      const { ran } = (await http(`${host.url}/api/other/ran`)).json();
      return ran.some((r: { payload: string }) => r.payload === '"again"') ? true : undefined;
    }, "the schedule to fire after the restart");
  });
});
