/**
 * Plugin commands through the real CLI binary (`host/dist/cli.js`) against a host with real
 * plugin processes (helpers/commands-host.ts): exit codes, byte-exact and separate
 * stdout/stderr, stdin and cwd, usage errors, a command that hangs (deadline) or crashes its
 * plugin, and help with and without a running host.
 */
import { describe, expect, it } from "@jest/globals";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, freePort, http } from "./harness.js";
import { BINARY, text, useCommandsHost } from "./helpers/commands-host.js";
import { pluginInState } from "./helpers/events.js";

const ctx = useCommandsHost();
const { qntx, run } = ctx;

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
    const result = await qntx(["cmds", "cat"], { input, cwd: ctx.scratch });
    expect(result.exitCode).toBe(0);
    expect(Buffer.from(result.stdout!).equals(input)).toBe(true);
    expect(text(result.stderr)).toBe(ctx.scratch);
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
    await pluginInState(ctx.t.host.registry, "crashy", "running");
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
    const empty = mkdtempSync(join(ctx.scratch, "nohost-"));
    const result = await qntx(["--help"], { dataDir: empty });
    expect(result.exitCode).toBe(0);
    expect(text(result.stdout).trimEnd().split("\n").at(-1)).toBe("Plugin commands: none listed (no qntx host is running; `qntx server` starts one).");
    expect(text(result.stderr)).toBe("");
  });

  it("qntx --help with a stale host.json (the host died) adds one short line too", async () => {
    const stale = mkdtempSync(join(ctx.scratch, "stale-"));
    writeFileSync(join(stale, "host.json"), JSON.stringify({ pid: 1, url: `http://127.0.0.1:${await freePort()}` }));
    const result = await qntx(["--help"], { dataDir: stale });
    expect(result.exitCode).toBe(0);
    expect(text(result.stdout).trimEnd().split("\n").at(-1)).toMatch(/^Plugin commands: none listed \(no qntx host answering at http:\/\/127\.0\.0\.1:\d+\)\.$/);
    expect(text(result.stderr)).toBe("");
  });

  it("a plugin word without a running host says so", async () => {
    const run = await qntx(["cmds", "greet"], { dataDir: join(ctx.scratch, "missing") });
    expect(run.exitCode).toBe(1);
    expect(text(run.stderr)).toMatch(/^error: "cmds" is not a qntx command, and no qntx host is running/);
  });

  it("a plugin word with a stale host.json names the URL nothing answers at, with the start hint", async () => {
    const stale = mkdtempSync(join(ctx.scratch, "stale-run-"));
    const url = `http://127.0.0.1:${await freePort()}`;
    writeFileSync(join(stale, "host.json"), JSON.stringify({ pid: 1, url }));
    const run = await qntx(["cmds", "greet", "ann"], { dataDir: stale });
    expect(run.exitCode).toBe(1);
    expect(text(run.stderr)).toBe(`error: no qntx host is answering at ${url} (ECONNREFUSED)\n  hint: start one with \`qntx server\` (or \`pnpm start\` in the qntx repository)\n`);
  });
});
