/**
 * Plugin config: checked against the plugin's ConfigSchema before Initialize (one error per
 * bad field), `${VAR}` expanded, `<data_dir>/am.<name>.toml` merged over the table, and
 * GET/PUT /api/plugins/<name>/config (PUT validates, persists and re-initializes).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { JOB_PLUGIN_PATH, adminHeaders, http, startTestHost, until, type TestHost } from "./harness.js";

let t: TestHost;

/** A job-plugin table with a schema, not started at boot. */
function table(name: string, config: string): string {
  return `[plugins.${name}]\nbinary = ${JSON.stringify(JOB_PLUGIN_PATH)}\nargs = ["--name", "${name}", "--schema"]\nauto_start = false\nconfig = ${config}\n\n`;
}

async function start(name: string) {
  return http(`${t.url}/api/plugins/${name}/start`, { method: "POST", headers: adminHeaders(t) });
}

/** The config a running plugin received, read back through its `config` job. */
async function configSeenBy(name: string): Promise<Record<string, string>> {
  const { job } = (await http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify({ handler: `${name}/config` }) })).json();
  return until(async () => {
    const j = (await http(`${t.url}/api/pulse/jobs/${job.id}`)).json().job;
    return j.status === "completed" ? j.result : undefined;
  }, "the config job");
}

beforeAll(async () => {
  process.env.QNTX_TEST_SECRET = "s3cret";
  delete process.env.QNTX_TEST_UNSET;
  t = await startTestHost(
    table("badcfg", `{ retries = 9, mode = "slow", tags = [1, 2], verbose = "maybe" }`) +
      table("envcfg", `{ token = "\${QNTX_TEST_SECRET}", tags = ["a"], retries = 2 }`) +
      table("unsetcfg", `{ token = "\${QNTX_TEST_UNSET}" }`) +
      table("defaultcfg", `{ token = "\${QNTX_TEST_UNSET:-fallback}" }`) +
      table("filecfg", `{ token = "from-table", retries = 1 }`),
  );
});

afterAll(async () => {
  await t?.close();
});

describe("schema validation before Initialize", () => {
  it("refuses a bad config with one error per bad field", async () => {
    const res = await start("badcfg");
    expect(res.status).toBe(400);
    const error = t.host.registry.get("badcfg")!.error!;
    expect(error).toContain("plugin badcfg config is invalid:");
    expect(error).toContain("mode: must match ^(fast|safe)$");
    expect(error).not.toContain("slow");
    expect(error).toContain("retries: must be at most 5 (got 9)");
    expect(error).toContain("tags: item 0 must be a string (got 1)");
    expect(error).toContain("token: required (API token) but missing");
    expect(error).toContain('verbose: must be true or false (got "maybe")');
    expect(t.host.registry.get("badcfg")!.state).toBe("failed");
    // Each line names the file and line: the key's (here its inline table's), or the plugin's table for a missing one.
    const lines = readFileSync(t.configFile, "utf8").split("\n");
    const header = lines.indexOf("[plugins.badcfg]") + 1;
    const configLine = lines.findIndex((line, i) => i >= header && line.startsWith("config = ")) + 1;
    expect(error).toContain(`${t.configFile}:${configLine}: retries: must be at most 5 (got 9)`);
    expect(error).toContain(`${t.configFile}:${header}: token: required (API token) but missing`);
  });

  it("expands ${VAR} and fills schema defaults", async () => {
    expect((await start("envcfg")).status).toBe(200);
    expect(await configSeenBy("envcfg")).toMatchObject({ token: "s3cret", mode: "safe", tags: '["a"]', retries: "2" });
  });

  it("names an unset variable, and honours ${VAR:-default}", async () => {
    expect((await start("unsetcfg")).status).toBe(400);
    expect(t.host.registry.get("unsetcfg")!.error).toContain("token uses ${QNTX_TEST_UNSET}, which is not set");
    expect((await start("defaultcfg")).status).toBe(200);
    expect((await configSeenBy("defaultcfg")).token).toBe("fallback");
  });
});

describe("per-plugin file and the config API", () => {
  it("merges <data_dir>/am.<name>.toml over the table", async () => {
    writeFileSync(join(t.dir, "data", "am.filecfg.toml"), 'token = "from-file"\n');
    expect((await start("filecfg")).status).toBe(200);
    expect(await configSeenBy("filecfg")).toMatchObject({ token: "from-file", retries: "1" });
    const got = (await http(`${t.url}/api/plugins/filecfg/config`, { headers: adminHeaders(t) })).json();
    expect(got.config).toEqual({ token: "from-file", retries: "1" });
    expect(got.file).toBe(join(t.dir, "data", "am.filecfg.toml"));
  });

  it("PUT refuses an invalid config and writes nothing", async () => {
    const before = readFileSync(join(t.dir, "data", "am.filecfg.toml"), "utf8");
    const res = await http(`${t.url}/api/plugins/filecfg/config`, { method: "PUT", headers: adminHeaders(t), body: JSON.stringify({ config: { token: "x", retries: 7 } }) });
    expect(res.status).toBe(400);
    expect(res.json().error).toContain("retries: must be at most 5 (got 7)");
    expect(readFileSync(join(t.dir, "data", "am.filecfg.toml"), "utf8")).toBe(before);
    expect(t.host.registry.get("filecfg")!.state).toBe("running");
  });

  it("PUT stores a valid config and re-initializes the running plugin with it", async () => {
    const pid = t.host.registry.get("filecfg")!.pid;
    const res = await http(`${t.url}/api/plugins/filecfg/config`, { method: "PUT", headers: adminHeaders(t), body: JSON.stringify({ config: { token: "rotated", mode: "fast" } }) });
    expect(res.status).toBe(200);
    expect(await configSeenBy("filecfg")).toMatchObject({ token: "rotated", mode: "fast", retries: "1" });
    expect(t.host.registry.get("filecfg")!.pid).toBe(pid);
    expect(readFileSync(join(t.dir, "data", "am.filecfg.toml"), "utf8")).toContain('token = "rotated"');
  });

  it("needs the admin token", async () => {
    expect((await http(`${t.url}/api/plugins/filecfg/config`)).status).toBe(401);
    expect(existsSync(join(t.dir, "data", "am.filecfg.toml"))).toBe(true);
  });
});
