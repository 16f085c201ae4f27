/**
 * Schedules announced with `enabled_by_default=false`: listed but silent until switched on with
 * `qntx pulse schedule enable` (which a plugin restart keeps), silent again after `disable`;
 * the HTTP route's refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execa } from "execa";
import { join } from "node:path";
import { CLI, adminHeaders, http, jobPluginTable, startTestHost, until, type TestHost } from "./harness.js";

let t: TestHost;

function qntx(...args: string[]) {
  return execa(process.execPath, [CLI, ...args, "--data-dir", join(t.dir, "data")], { reject: false });
}

async function tickJobs(): Promise<Array<{ id: string; status: string }>> {
  const { jobs } = (await http(`${t.url}/api/pulse/jobs?limit=1000`, { headers: adminHeaders(t) })).json();
  return (jobs as Array<{ id: string; handler: string; status: string }>).filter((j) => j.handler === "ticker/tick");
}

beforeAll(async () => {
  t = await startTestHost(jobPluginTable("ticker", ["--schedule-off"]));
});

afterAll(async () => {
  await t?.close();
});

describe("switching schedules", () => {
  it("lists an off-by-default schedule as disabled, and it fires nothing", async () => {
    const listed = await qntx("pulse", "schedules", "--json");
    expect(listed.exitCode).toBe(0);
    const [schedule] = JSON.parse(listed.stdout);
    expect(schedule).toMatchObject({ handler: "ticker/tick", intervalSeconds: 1, enabled: false });
    const table = await qntx("pulse", "schedules");
    expect(table.stdout).toMatch(/ticker\/tick\s+1s\s+no/);
    // The scheduler ticks every second: a schedule that were on would be due by now.
    await t.host.pulse.scheduler.tick();
    expect(await tickJobs()).toEqual([]);
  });

  it("enable makes it fire; disable stops it", async () => {
    const on = await qntx("pulse", "schedule", "enable", "ticker/tick");
    expect(on.stderr).toBe("");
    expect(on.stdout.trim()).toBe("ticker/tick: enabled");
    await until(async () => ((await tickJobs()).some((j) => j.status === "completed") ? true : undefined), "a ticker/tick job to complete");

    // A restart re-announces the schedule with enabled_by_default=false: the user's choice stays.
    const restarted = await http(`${t.url}/api/plugins/ticker/restart`, { method: "POST", headers: adminHeaders(t) });
    expect(restarted.status).toBe(200);
    expect((await http(`${t.url}/api/pulse/schedules`)).json().schedules[0].enabled).toBe(true);

    const off = await qntx("pulse", "schedule", "disable", "ticker/tick");
    expect(off.stdout.trim()).toBe("ticker/tick: disabled");
    const before = (await tickJobs()).length;
    const schedule = (await http(`${t.url}/api/pulse/schedules`)).json().schedules[0];
    expect(schedule.enabled).toBe(false);
    // Force ticks rather than waiting for the timer: a disabled schedule must not fire on any of them.
    for (let i = 0; i < 3; i++) await t.host.pulse.scheduler.tick();
    expect((await tickJobs()).length).toBe(before);
  });

  it("refuses an unknown schedule naming the known ones, a bad action, a missing token and a malformed name", async () => {
    const unknown = await http(`${t.url}/api/pulse/schedules/ticker/nope/enable`, { method: "POST", headers: adminHeaders(t) });
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toMatchObject({ error: "no schedule for handler ticker/nope", hint: "schedules: ticker/tick" });

    const badAction = await http(`${t.url}/api/pulse/schedules/ticker/tick/toggle`, { method: "POST", headers: adminHeaders(t) });
    expect(badAction.status).toBe(400);

    const noToken = await http(`${t.url}/api/pulse/schedules/ticker/tick/enable`, { method: "POST" });
    expect(noToken.status).toBe(401);
    expect((await http(`${t.url}/api/pulse/schedules`)).json().schedules[0].enabled).toBe(false);

    const malformed = await qntx("pulse", "schedule", "enable", "tick");
    expect(malformed.exitCode).not.toBe(0);
    expect(malformed.stderr).toContain('expected <plugin>/<handler>, got "tick"');
  });
});
