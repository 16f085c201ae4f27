/**
 * Plugin commands through the control API, with real processes (helpers/commands-host.ts):
 * listing (the fake and Python plugins have no command RPCs: UNIMPLEMENTED means no commands),
 * running with byte-exact output, auth, 404/503/400 answers, a command cut at its deadline, a
 * plugin that stops answering (last: it stays stuck), and built-in plugins in process.
 */
import { describe, expect, it } from "@jest/globals";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { createClockPlugin } from "../src/builtin/clock.js";
import { pluginCommands } from "../src/plugin/commands.js";
import { PluginCallError } from "../src/plugin/domain-plugin.js";
import { inProcess } from "../src/plugin/in-process.js";
import { http, until } from "./harness.js";
import { BINARY, text, useCommandsHost } from "./helpers/commands-host.js";
import { itWithPython } from "./helpers/toolchain.js";

const ctx = useCommandsHost();
const { qntx, run } = ctx;

describe("control API", () => {
  it("lists the commands of every running plugin that has some (not the UNIMPLEMENTED ones)", async () => {
    const res = await http(`${ctx.t.url}/api/plugins/commands`);
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body.plugins.map((p: { plugin: string }) => p.plugin)).toEqual(["blocker", "clock", "cmds", "crashy"]);
    expect(body.unavailable).toEqual([]);
    const greet = body.plugins[2].commands[0];
    expect(greet).toEqual({
      name: "greet",
      description: "greets someone",
      usage: "<name…> [--shout] [--times N]",
      flags: [
        { name: "shout", description: "upper-case it", takesValue: false, defaultValue: "", short: "s" },
        { name: "times", description: "lines to print", takesValue: true, defaultValue: "1", short: "" },
      ],
      readsStdin: false,
    });
  });

  it("answers no commands for a plugin without the RPCs (Node fake plugin)", async () => {
    const res = await http(`${ctx.t.url}/api/plugins/fakecmd/commands`);
    expect([res.status, res.json()]).toEqual([200, { plugin: "fakecmd", commands: [] }]);
  });

  itWithPython(import.meta.url, "answers no commands for a plugin without the RPCs (Python plugin)", async () => {
    const res = await http(`${ctx.t.url}/api/plugins/pyplug/commands`);
    expect([res.status, res.json()]).toEqual([200, { plugin: "pyplug", commands: [] }]);
  });

  it("runs a command and returns exit code, stdout and stderr (base64, byte-exact)", async () => {
    const res = await run("cmds", "greet", { args: ["Ada"], flags: { shout: "true", times: "2" } });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ plugin: "cmds", command: "greet", exitCode: 0, stderr: "" });
    expect(Buffer.from(body.stdout, "base64").toString()).toBe("HI, ADA!\nHI, ADA!\n");
    const bytes = (await run("cmds", "bytes")).json();
    expect(bytes.exitCode).toBe(3);
    expect(Buffer.from(bytes.stdout, "base64").equals(BINARY)).toBe(true);
    expect(Buffer.from(bytes.stderr, "base64").toString()).toBe("warn: careful\n");
  });

  it("runs the built-in plugin's command the same way", async () => {
    const body = (await run("clock", "now", { flags: { unix: "true" } })).json();
    expect(body.exitCode).toBe(0);
    expect(Buffer.from(body.stdout, "base64").toString()).toMatch(/^\d{13}\n$/);
  });

  it("needs the admin token to run a command", async () => {
    const res = await run("cmds", "greet", {}, { "content-type": "application/json" });
    expect(res.status).toBe(401);
    expect(res.json().hint).toContain("admin.token");
  });

  it("answers 404 naming the host's plugins (all of them, from the registry) or the plugin's commands", async () => {
    const noPlugin = await run("nope", "greet");
    expect(noPlugin.status).toBe(404);
    expect(noPlugin.json()).toEqual({
      error: 'no plugin named "nope"',
      code: "PLUGIN_NOT_FOUND",
      hint: "plugins: blocker, clock, cmds, crashy, fakecmd, idle, pyplug (`qntx <plugin> --help` lists a plugin's commands)",
      plugins: ["blocker", "clock", "cmds", "crashy", "fakecmd", "idle", "pyplug"],
    });
    expect((await http(`${ctx.t.url}/api/plugins/nope/commands`)).json().plugins).toEqual(["blocker", "clock", "cmds", "crashy", "fakecmd", "idle", "pyplug"]);
    const noCommand = await run("cmds", "nope");
    expect(noCommand.status).toBe(404);
    expect(noCommand.json()).toMatchObject({ error: 'plugin cmds has no command "nope"', code: "COMMAND_NOT_FOUND", commands: ["greet", "bytes", "exit", "fail", "cat", "hang", "crash", "block", "marker"] });
    const none = await run("fakecmd", "anything");
    expect([none.status, none.json().hint]).toEqual([404, "plugin fakecmd contributes no commands"]);
  });

  it("answers the usual 503 for a plugin that is not running", async () => {
    const res = await run("idle", "greet");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("2");
    expect(res.json()).toEqual({ error: "plugin idle is stopped", code: "PLUGIN_UNAVAILABLE", state: "stopped", hint: "start it with `qntx plugin start idle`" });
    expect((await http(`${ctx.t.url}/api/plugins/idle/commands`)).status).toBe(503);
  });

  it("refuses a malformed body with 400", async () => {
    const res = await run("cmds", "greet", { args: "Ada" });
    expect([res.status, res.json().error]).toEqual([400, "args must be an array of strings"]);
    expect((await run("cmds", "greet", { flags: { times: 2 } })).json().error).toBe('flags.times must be a string (a switch is "true")');
    expect((await run("cmds", "greet", { timeoutMs: -1 })).status).toBe(400);
  });

  it("cuts a hanging command off at its deadline (504), tells the plugin, and the plugin keeps serving", async () => {
    const res = await run("cmds", "hang", { timeoutMs: 800 });
    expect(res.status).toBe(504);
    expect(res.json()).toMatchObject({ error: 'command "hang" of plugin cmds did not finish within 800 ms', grpc_status: "DEADLINE_EXCEEDED" });
    const marker = join(ctx.scratch, "aborted");
    expect((await run("cmds", "marker", { args: [marker], timeoutMs: 500 })).status).toBe(504);
    await until(() => (existsSync(marker) ? readFileSync(marker, "utf8") : undefined), "the command's signal to abort");
    expect((await run("cmds", "greet", { args: ["again"] })).json().exitCode).toBe(0);
  });
});

describe("a plugin that stops answering", () => {
  it("is cut off by the deadline, then listed as not answering while the others' commands still show", async () => {
    const res = await run("blocker", "block", { timeoutMs: 500 });
    expect(res.status).toBe(504);
    const listing = await http(`${ctx.t.url}/api/plugins/commands`);
    expect(listing.json().plugins.map((p: { plugin: string }) => p.plugin)).toEqual(["clock", "cmds", "crashy"]);
    expect(listing.json().unavailable).toEqual([{ plugin: "blocker", error: "no answer to Commands within 2000 ms" }]);
    const help = await qntx(["--help"]);
    expect(help.exitCode).toBe(0);
    expect(text(help.stdout)).toMatch(/^ {2}cmds greet /m);
    expect(text(help.stdout)).toContain("  (not answering: blocker)");
  });

  it("does not hold up the 404 of an unknown plugin: the names come from the registry, no Commands call", async () => {
    // blocker's event loop is stuck (previous test): a Commands call to it could only time out,
    // and a plugin that did not answer could not be named. The 404 names it all the same.
    const noPlugin = await run("nope", "greet");
    expect(noPlugin.status).toBe(404);
    expect(noPlugin.json().plugins).toEqual(["blocker", "clock", "cmds", "crashy", "fakecmd", "idle", "pyplug"]);
    const cli = await qntx(["nope", "x"]);
    expect(cli.exitCode).toBe(2);
    expect(text(cli.stderr)).toContain("hint: its plugins: blocker, clock, cmds, crashy, fakecmd, idle, pyplug;");
  });
});

describe("built-in plugins (in process)", () => {
  it("are held to the deadline of a command like external ones", async () => {
    const hung = inProcess({ ...createClockPlugin(), executeCommand: () => new Promise(() => undefined) });
    const call = hung.executeCommand!({ command: "now", args: [], flags: {}, stdin: Buffer.alloc(0), env: {}, cwd: "" }, { deadline: Date.now() + 100 });
    await expect(call).rejects.toBeInstanceOf(PluginCallError);
    await expect(call).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
  });

  it("without commands() have no commands", async () => {
    const { commands: _drop, executeCommand: _too, ...bare } = createClockPlugin();
    expect(await pluginCommands(inProcess(bare))).toEqual([]);
    expect((await pluginCommands(inProcess(createClockPlugin()))).map((c) => c.name)).toEqual(["now"]);
  });
});
