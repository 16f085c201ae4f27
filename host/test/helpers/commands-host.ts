/**
 * The host the plugin-command tests share (one per test file): an SDK plugin with commands
 * (fixtures/commands-plugin.mjs) under several names, the built-in clock, the fake plugin and
 * the Python example (neither has the RPCs), and the ways to reach their commands: the control
 * API and the real CLI binary.
 */
import { afterAll, beforeAll } from "@jest/globals";
import { execa } from "execa";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { adminHeaders, CLI, fakePluginTable, http, startTestHost, type TestHost } from "../harness.js";

const COMMANDS_PLUGIN = fileURLToPath(new URL("../fixtures/commands-plugin.mjs", import.meta.url));
const RUN_SH = fileURLToPath(new URL("../../../examples/python-plugin/run.sh", import.meta.url));

/** Bytes that are not UTF-8, for byte-exact stdin and stdout checks. */
export const BINARY = Buffer.from([0x00, 0x01, 0x02, 0xff, 0xfe, 0x0a, 0x0d, 0x80]);

/** Options of {@link CommandsHost.qntx}. */
export interface CliOptions {
  readonly input?: Buffer;
  readonly env?: Record<string, string>;
  readonly dataDir?: string;
  readonly cwd?: string;
}

/** The shared host of a test file and its helpers (valid once beforeAll ran). */
export interface CommandsHost {
  readonly t: TestHost;
  /** A temp dir of the file's own, removed after it. */
  readonly scratch: string;
  /** Runs the CLI against the test host; stdout and stderr as raw bytes. */
  qntx(args: string[], options?: CliOptions): ReturnType<typeof cli>;
  /** Runs a command through the control API. */
  run(plugin: string, command: string, body?: Record<string, unknown>, headers?: Record<string, string>): ReturnType<typeof http>;
}

function cli(t: TestHost, args: string[], options: CliOptions) {
  return execa(process.execPath, [CLI, "--data-dir", options.dataDir ?? join(t.dir, "data"), ...args], {
    reject: false,
    encoding: "buffer",
    stripFinalNewline: false,
    input: options.input,
    cwd: options.cwd,
    env: { QNTX_HOST: "", ...options.env },
  });
}

function commandsTable(name: string, extra = ""): string {
  return `[plugins.${name}]\nbinary = ${JSON.stringify(COMMANDS_PLUGIN)}\nargs = ["--name", "${name}"]\n${extra}\n`;
}

/** Starts the file's host before its tests and closes it after them. */
export function useCommandsHost(): CommandsHost {
  let t: TestHost | undefined;
  let scratch: string | undefined;
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
  return {
    get t() {
      return t!;
    },
    get scratch() {
      return scratch!;
    },
    qntx(args, options = {}) {
      return cli(t!, args, options);
    },
    run(plugin, command, body = {}, headers = adminHeaders(t!)) {
      return http(`${t!.url}/api/plugins/${plugin}/commands/${command}`, { method: "POST", headers, body: JSON.stringify(body) });
    },
  };
}

/** Bytes as UTF-8 text. */
export const text = (bytes: Uint8Array | undefined): string => Buffer.from(bytes ?? []).toString("utf8");
