/**
 * `qntx plugin logs` against a real `qntx server` process: the last N lines, --follow, and the
 * reason for an unknown plugin.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execa, type ResultPromise } from "execa";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, hostTable, http, until } from "./harness.js";
import { hostUrlOnceListening } from "./helpers/events.js";
import { backlog, floodTable, lines } from "./helpers/plugin-logs.js";

describe("qntx plugin logs", () => {
  let dir: string;
  let configFile: string;
  let server: ResultPromise;
  let url: string;
  const env = () => ({ QNTX_HOME: join(dir, "home") });
  const token = () => readFileSync(join(dir, "data", "admin.token"), "utf8").trim();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "qntx-logs-cli-"));
    configFile = join(dir, "am.plugins.toml");
    writeFileSync(configFile, `${await hostTable(dir)}\n${floodTable("clilogs")}\n`);
    server = execa(process.execPath, [CLI, "server", "--config", configFile], { reject: false, buffer: false, env: { QNTX_LOG_LEVEL: "warn" } });
    server.stdout!.resume();
    server.stderr!.resume();
    const hostFile = join(dir, "data", "host.json");
    url = await hostUrlOnceListening(hostFile);
    await until(async () => ((await http(`${url}/api/clilogs/ping`)).text === "pong" ? true : undefined), "clilogs running");
    expect((await http(`${url}/api/clilogs/say?text=cli-line&count=10`)).status).toBe(200);
    await until(async () => {
      const { entries } = await backlog({ url, dir }, "clilogs", "?lines=1", { authorization: `Bearer ${token()}` });
      return entries[0]?.line === "cli-line 10" ? true : undefined;
    }, "cli-line 10 in the ring");
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill("SIGTERM");
      await server;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the last --lines N lines as <time> <stream> <line> and exits 0", async () => {
    const result = await execa(process.execPath, [CLI, "plugin", "logs", "clilogs", "--lines", "5", "--config", configFile], { reject: false, env: env() });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    const printed = result.stdout.split("\n");
    expect(printed).toHaveLength(5);
    expect(printed[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdout cli-line 6$/);
    expect(printed[4]).toMatch(/Z stdout cli-line 10$/);
  });

  it("--follow prints new lines until interrupted", async () => {
    const follower = execa(process.execPath, [CLI, "plugin", "logs", "clilogs", "--follow", "--lines", "0", "--config", configFile], { reject: false, env: env(), buffer: false });
    let out = "";
    follower.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
    follower.stderr!.resume();
    try {
      // Until the follower has subscribed, a line is missed; so say it until it shows up.
      await until(async () => {
        await http(`${url}/api/clilogs/say?text=followed&stream=stderr`);
        return out.includes("followed") ? true : undefined;
      }, "the followed line on the CLI's stdout");
      expect(out.split("\n")[0]).toMatch(/^\S+Z stderr followed$/);
      expect(follower.exitCode).toBeNull();
    } finally {
      follower.kill("SIGINT");
      await follower;
    }
  });

  it("fails with the reason for an unknown plugin", async () => {
    const result = await execa(process.execPath, [CLI, "plugin", "logs", "ghost", "--config", configFile], { reject: false, env: env() });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('no plugin named "ghost"');
  });
});
