/**
 * Plugin CLI commands end to end, with real processes: an SDK plugin with commands
 * (fixtures/commands-plugin.mjs), the built-in clock, the fake plugin and the Python example
 * (neither has the RPCs: UNIMPLEMENTED → no commands; the Python one only where its toolchain
 * is, see helpers/toolchain.ts), through the control API and through the
 * real CLI binary (`host/dist/cli.js`) against the host: exit codes, byte-exact and separate
 * stdout/stderr, stdin, usage errors, help, a command that hangs (deadline) or crashes its plugin.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execa } from "execa";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { status } from "@grpc/grpc-js";
import { createClockPlugin } from "../src/builtin/clock.js";
import { pluginCommands } from "../src/plugin/commands.js";
import { PluginCallError } from "../src/plugin/domain-plugin.js";
import { inProcess } from "../src/plugin/in-process.js";
import { adminHeaders, CLI, fakePluginTable, freePort, http, startTestHost, until, type TestHost } from "./harness.js";
import { itWithPython } from "./helpers/toolchain.js";

const COMMANDS_PLUGIN = fileURLToPath(new URL("./fixtures/commands-plugin.mjs", import.meta.url));
const RUN_SH = fileURLToPath(new URL("../../examples/python-plugin/run.sh", import.meta.url));
const BINARY = Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x0a, 0x0d, 0x80]);

function commandsTable(name: string, extra = ""): string {
  return `[plugins.${name}]\nbinary = ${JSON.stringify(COMMANDS_PLUGIN)}\nargs = ["--name", "${name}"]\n${extra}\n`;
}

let t: TestHost;
let scratch: string;

beforeAll(async () => {
  t = await startTestHost(
    [
      commandsTable("cmds", 'config = { greeting = "Hi" }'),
      commandsTable("crashy"),
      commandsTable("blocker"),
      commandsTable("idle", "auto_start = false"),
      '[plugins.clock]\nbuiltin = "clock"\n',
      fakePluginTable("fakecmd", "ok"),
      `[plugins.pyplug]\nbinary = ${JSON.stringify(RUN_SH)}\n`,
    ].join("\n"),
    // The blocked plugin ignores Shutdown and SIGTERM: do not wait 5 s for it at the end.
    { shutdown_timeout_ms: 1000 },
  );
  scratch = mkdtempSync(join(tmpdir(), "qntx-commands-test-"));
});

afterAll(async () => {
  await t?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Runs the CLI against the test host; stdout and stderr as raw bytes. */
function qntx(args: string[], options: { input?: Buffer; env?: Record<string, string>; dataDir?: string; cwd?: string } = {}) {
  return execa(process.execPath, [CLI, "--data-dir", options.dataDir ?? join(t.dir, "data"), ...args], {
    reject: false,
    encoding: "buffer",
    stripFinalNewline: false,
    input: options.input,
    cwd: options.cwd,
    env: { QNTX_HOST: "", ...options.env },
  });
}

const text = (bytes: Uint8Array | undefined): string => Buffer.from(bytes ?? []).toString("utf8");

function run(plugin: string, command: string, body: Record<string, unknown> = {}, headers: Record<string, string> = adminHeaders(t)) {
  return http(`${t.url}/api/plugins/${plugin}/commands/${command}`, { method: "POST", headers, body: JSON.stringify(body) });
}

describe("control API", () => {
  it("lists the commands of every running plugin that has some (not the UNIMPLEMENTED ones)", async () => {
    const res = await http(`${t.url}/api/plugins/commands`);
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
    const res = await http(`${t.url}/api/plugins/fakecmd/commands`);
    expect([res.status, res.json()]).toEqual([200, { plugin: "fakecmd", commands: [] }]);
  });

  itWithPython(import.meta.url, "answers no commands for a plugin without the RPCs (Python plugin)", async () => {
    const res = await http(`${t.url}/api/plugins/pyplug/commands`);
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
    expect((await http(`${t.url}/api/plugins/nope/commands`)).json().plugins).toEqual(["blocker", "clock", "cmds", "crashy", "fakecmd", "idle", "pyplug"]);
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
    expect((await http(`${t.url}/api/plugins/idle/commands`)).status).toBe(503);
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
    const marker = join(scratch, "aborted");
    expect((await run("cmds", "marker", { args: [marker], timeoutMs: 500 })).status).toBe(504);
    await until(() => (existsSync(marker) ? readFileSync(marker, "utf8") : undefined), "the command's signal to abort");
    expect((await run("cmds", "greet", { args: ["again"] })).json().exitCode).toBe(0);
  });
});

describe("qntx <plugin> <command> (the CLI binary)", () => {
  it("runs a command: args, long and short flags, stdout, exit 0", async () => {
    const result = await qntx(["cmds", "greet", "Ada", "Lovelace", "-s", "--times=2"]);
    expect([text(result.stdout), text(result.stderr), result.exitCode]).toEqual(["HI, ADA LOVELACE!\nHI, ADA LOVELACE!\n", "", 0]);
    const spaced = await qntx(["cmds", "greet", "--times", "1", "Bo"]);
    expect(text(spaced.stdout)).toBe("Hi, Bo!\n");
  });

  it("writes stdout and stderr bytes raw and separately, and exits with the plugin's code", async () => {
    const result = await qntx(["cmds", "bytes"]);
    expect(result.exitCode).toBe(3);
    expect(Buffer.from(result.stdout!).equals(BINARY)).toBe(true);
    expect(text(result.stderr)).toBe("warn: careful\n");
  });

  it.each([
    ["42", 42],
    ["0", 0],
    ["300", 1],
  ])("passes the plugin's exit code %s on as %d", async (code, expected) => {
    expect((await qntx(["cmds", "exit", code])).exitCode).toBe(expected);
  });

  it("exits 1 with the message on stderr when the command throws", async () => {
    const result = await qntx(["cmds", "fail"]);
    expect([text(result.stdout), text(result.stderr), result.exitCode]).toEqual(["partial\n", "error: boom\n", 1]);
  });

  it("sends stdin and the working directory to a command that reads stdin", async () => {
    const input = Buffer.concat([BINARY, Buffer.from(" and text")]);
    const result = await qntx(["cmds", "cat"], { input, cwd: scratch });
    expect(result.exitCode).toBe(0);
    expect(Buffer.from(result.stdout!).equals(input)).toBe(true);
    expect(text(result.stderr)).toBe(scratch);
  });

  it("runs the built-in plugin's command", async () => {
    const result = await qntx(["clock", "now"]);
    expect(result.exitCode).toBe(0);
    expect(new Date(text(result.stdout).trim()).toISOString()).toBe(text(result.stdout).trim());
  });

  it("exits 124 with a clear error when the command outlives its deadline", async () => {
    const result = await qntx(["cmds", "hang"], { env: { QNTX_COMMAND_TIMEOUT_MS: "800" } });
    expect(result.exitCode).toBe(124);
    expect(text(result.stderr)).toBe(
      'error: command "hang" of plugin cmds did not finish within 800 ms\n' +
        "  hint: the plugin was told to stop it; give it longer with timeoutMs (the CLI: QNTX_COMMAND_TIMEOUT_MS)\n",
    );
  });

  it("refuses a QNTX_COMMAND_TIMEOUT_MS that is not a usable deadline, without running the command", async () => {
    for (const bad of ["soon", "0", "400000"]) {
      const result = await qntx(["cmds", "hang"], { env: { QNTX_COMMAND_TIMEOUT_MS: bad } });
      expect([bad, result.exitCode]).toEqual([bad, 2]);
      expect(text(result.stderr)).toContain(`QNTX_COMMAND_TIMEOUT_MS must be a whole number of milliseconds from 1 to 290000 (got "${bad}")`);
    }
  });

  it("exits 1 with a clear error, not a hang, when the command crashes its plugin", async () => {
    const result = await qntx(["crashy", "crash"]);
    expect(result.exitCode).toBe(1);
    expect(text(result.stderr)).toMatch(/^error: command "crash" of plugin crashy failed: .+\n {2}hint: the plugin may have crashed: `qntx plugin logs crashy` shows its output\n$/);
    // The host restarts it, and its commands work again.
    await until(async () => ((await http(`${t.url}/api/plugins/crashy`)).json().plugin.state === "running" ? true : undefined), "crashy to be restarted");
    expect(text((await qntx(["crashy", "greet"])).stdout)).toBe("Hello, world!\n");
  });

  it("refuses an undeclared flag with exit 2, naming the declared ones", async () => {
    const flag = await qntx(["cmds", "greet", "--loud"]);
    expect(flag.exitCode).toBe(2);
    expect(text(flag.stderr)).toBe(
      'error: greet: unknown flag --loud (flags: --shout, --times); put arguments that start with "-" after --\n' +
        "  hint: usage: qntx cmds greet <name…> [--shout] [--times N] (`qntx cmds greet --help`)\n",
    );
  });

  it("refuses a flag without its value, or with a bad one (the plugin's own check), with exit 2", async () => {
    const value = await qntx(["cmds", "greet", "--times"]);
    expect([value.exitCode, text(value.stderr).split("\n")[0]]).toEqual([2, "error: greet: --times needs a value (--times <value> or --times=<value>)"]);
    const badNumber = await qntx(["cmds", "greet", "--times", "lots"]);
    expect([badNumber.exitCode, text(badNumber.stderr)]).toEqual([2, 'usage error: greet: --times takes a number, got "lots"\n']);
  });

  it("refuses an unknown command with exit 2, naming the plugin's commands", async () => {
    const command = await qntx(["cmds", "nope"]);
    expect([command.exitCode, text(command.stderr)]).toEqual([2, 'error: plugin cmds has no command "nope"\n  hint: its commands: greet, bytes, exit, fail, cat, hang, crash, block, marker (`qntx cmds --help`)\n']);
    const none = await qntx(["fakecmd", "x"]);
    expect([none.exitCode, text(none.stderr)]).toEqual([2, 'error: plugin fakecmd has no command "x"\n  hint: plugin fakecmd contributes no commands\n']);
  });

  it("refuses an unknown plugin with exit 2, naming the host's plugins and qntx's own commands", async () => {
    const plugin = await qntx(["nope", "x"]);
    expect(plugin.exitCode).toBe(2);
    expect(text(plugin.stderr)).toMatch(/^error: "nope" is neither a qntx command nor a plugin of the running host\n {2}hint: its plugins: blocker, clock, cmds, crashy, fakecmd, idle, pyplug; qntx commands: server, plugin, /);
  });

  it("says a stopped plugin is stopped and how to start it", async () => {
    const result = await qntx(["idle", "greet"]);
    expect([result.exitCode, text(result.stderr)]).toEqual([1, "error: plugin idle is stopped\n  hint: start it with `qntx plugin start idle`\n"]);
  });
});

describe("help", () => {
  it("qntx <plugin> --help lists the plugin's commands with usage and flags", async () => {
    const result = await qntx(["cmds", "--help"]);
    expect(result.exitCode).toBe(0);
    const out = text(result.stdout);
    expect(out).toContain("Usage: qntx cmds <command> [args] [--flags]");
    expect(out).toMatch(/^ {2}greet <name…> \[--shout\] \[--times N\] +greets someone$/m);
    expect(out).toMatch(/^ {2}-s, --shout +upper-case it$/m);
    expect(out).toMatch(/^ {6}--times <value> +lines to print \(default: 1\)$/m);
    expect(text((await qntx(["help", "cmds"])).stdout)).toBe(out);
  });

  it("qntx <plugin> <command> --help shows that command", async () => {
    const result = await qntx(["cmds", "cat", "--help"]);
    expect(result.exitCode).toBe(0);
    expect(text(result.stdout)).toBe("Usage: qntx cmds cat\n\nechoes stdin\n\nFlags:\n  -h, --help  show this help\n\nReads standard input (pipe it in: … | qntx cmds cat).\n");
  });

  it("qntx --help appends every running plugin's commands", async () => {
    const result = await qntx(["--help"]);
    expect(result.exitCode).toBe(0);
    const out = text(result.stdout);
    expect(out).toContain("Commands:\n");
    expect(out).toContain("Plugin commands (of the running host; `qntx <plugin> --help` for flags):");
    expect(out).toMatch(/^ {2}cmds greet <name…> \[--shout\] \[--times N\] +greets someone$/m);
    expect(out).toMatch(/^ {2}clock now \[--unix\] +prints the host's time/m);
    expect(out).not.toContain("fakecmd");
  });

  it("qntx --help without a running host adds one short line", async () => {
    const empty = mkdtempSync(join(scratch, "nohost-"));
    const result = await qntx(["--help"], { dataDir: empty });
    expect(result.exitCode).toBe(0);
    expect(text(result.stdout).trimEnd().split("\n").at(-1)).toBe("Plugin commands: none listed (no qntx host is running; `qntx server` starts one).");
    expect(text(result.stderr)).toBe("");
  });

  it("qntx --help with a stale host.json (the host died) adds one short line too", async () => {
    const stale = mkdtempSync(join(scratch, "stale-"));
    writeFileSync(join(stale, "host.json"), JSON.stringify({ pid: 1, url: `http://127.0.0.1:${await freePort()}` }));
    const result = await qntx(["--help"], { dataDir: stale });
    expect(result.exitCode).toBe(0);
    expect(text(result.stdout).trimEnd().split("\n").at(-1)).toMatch(/^Plugin commands: none listed \(no qntx host answering at http:\/\/127\.0\.0\.1:\d+\)\.$/);
    expect(text(result.stderr)).toBe("");
  });

  it("a plugin word without a running host says so", async () => {
    const run = await qntx(["cmds", "greet"], { dataDir: join(scratch, "missing") });
    expect(run.exitCode).toBe(1);
    expect(text(run.stderr)).toMatch(/^error: "cmds" is not a qntx command, and no qntx host is running/);
  });

  it("a plugin word with a stale host.json names the URL nothing answers at, with the start hint", async () => {
    const stale = mkdtempSync(join(scratch, "stale-run-"));
    const url = `http://127.0.0.1:${await freePort()}`;
    writeFileSync(join(stale, "host.json"), JSON.stringify({ pid: 1, url }));
    const run = await qntx(["cmds", "greet", "ann"], { dataDir: stale });
    expect(run.exitCode).toBe(1);
    expect(text(run.stderr)).toBe(`error: no qntx host is answering at ${url} (ECONNREFUSED)\n  hint: start one with \`qntx server\` (or \`pnpm start\` in the qntx repository)\n`);
  });
});
describe("a plugin that stops answering", () => {
  it("is cut off by the deadline, then listed as not answering while the others' commands still show", async () => {
    const res = await run("blocker", "block", { timeoutMs: 500 });
    expect(res.status).toBe(504);
    const listing = await http(`${t.url}/api/plugins/commands`);
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
