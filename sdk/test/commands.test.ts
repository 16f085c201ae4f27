/**
 * Plugin CLI commands over real gRPC: `Commands` announces what `definePlugin({ commands })`
 * declared, `ExecuteCommand` runs one and answers its stdout/stderr bytes and exit code
 * (return values, throws, usage errors, stdin/env/cwd, the output cap, the caller's deadline),
 * and `definePlugin` refuses bad definitions with a TypeError naming the culprit.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import * as grpc from "@grpc/grpc-js";
import {
  DomainPluginServiceClient,
  ExecuteCommandRequest,
  InitializeRequest,
  type CommandsResponse,
  type Empty,
  type ExecuteCommandResponse,
  type InitializeResponse,
} from "@qntx/protocol";
import { CommandError, definePlugin, MAX_COMMAND_OUTPUT_BYTES, startPlugin, type CommandDef, type PluginHandle } from "../src/index.js";
import { startFakeHost, type FakeHost } from "./fake-host.js";
import { call, dial } from "./helpers.js";

const TOKEN = "commands-token";
const BINARY = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0a, 0x0d, 0x80]);

/** What the `wait` command saw, so a test can wait for its signal to abort. */
const probe: { started?: () => void; aborted?: () => void } = {};

const plugin = definePlugin({
  metadata: { name: "cmds", version: "1.0.0" },
  configSchema: { greeting: { type: "string", default: "Hello" } },
  commands: {
    greet: {
      description: "greets someone",
      usage: "<name> [--shout] [--times N]",
      flags: {
        shout: { description: "upper-case it", short: "s" },
        times: { type: "number", default: 1, description: "how many times" },
        suffix: { type: "string", description: "appended" },
      },
      run(args, flags, ctx) {
        const line = `${ctx.config.greeting}, ${args.join(" ") || "world"}${flags.suffix ?? "!"}`;
        const text = flags.shout ? line.toUpperCase() : line;
        return `${Array.from({ length: Number(flags.times) }, () => text).join("\n")}\n`;
      },
    },
    bytes: {
      run(_args, _flags, ctx) {
        ctx.stdout.write(BINARY);
        ctx.stderr.write("warn ");
        ctx.stderr.write(BINARY.subarray(0, 3));
        return 3;
      },
    },
    result: { run: () => ({ stdout: "out", stderr: Buffer.from("err"), exitCode: 4 }) },
    fail: {
      run(_args, _flags, ctx) {
        ctx.stdout.write("partial\n");
        throw new Error("boom");
      },
    },
    refuse: { run: async () => Promise.reject(new CommandError("not allowed", 5)) },
    "bad-return": { run: () => ({ foo: 1 }) as never },
    cat: {
      readsStdin: true,
      run: (_args, _flags, ctx) => ({ stdout: ctx.stdin, stderr: `${ctx.cwd} ${ctx.env.LANG ?? "-"}` }),
    },
    big: { run: (_args, _flags, ctx) => void ctx.stdout.write(Buffer.alloc(MAX_COMMAND_OUTPUT_BYTES + 100, 0x61)) },
    wait: {
      run: (_args, _flags, ctx) =>
        new Promise<number>((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            probe.aborted?.();
            resolve(0);
          });
          probe.started?.();
        }),
    },
    count: {
      description: "counts attestations through the host's ATS",
      async run(_args, _flags, ctx) {
        if (!ctx.ats) return { stderr: "no ATS offered\n", exitCode: 9 };
        return `${(await ctx.ats.query({ predicates: ["note"] })).length}\n`;
      },
    },
  },
});

let fake: FakeHost;
let handle: PluginHandle;
let client: DomainPluginServiceClient;

function run(command: string, args: string[] = [], flags: Record<string, string> = {}, extra: Partial<ExecuteCommandRequest> = {}, deadlineMs?: number): Promise<ExecuteCommandResponse> {
  return call<ExecuteCommandRequest, ExecuteCommandResponse>(client, client.executeCommand, ExecuteCommandRequest.fromPartial({ command, args, flags, ...extra }), deadlineMs);
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString("utf8");

beforeAll(async () => {
  fake = await startFakeHost({ token: TOKEN });
  handle = await startPlugin(plugin);
  client = dial(handle.address);
});

afterAll(async () => {
  client?.close();
  await handle?.close({ force: true });
  await fake?.close();
});

describe("Commands", () => {
  it("announces every command with usage, flags and stdin use", async () => {
    const res = await call<Empty, CommandsResponse>(client, client.commands, {});
    expect(res.commands.map((c) => c.name)).toEqual(["greet", "bytes", "result", "fail", "refuse", "bad-return", "cat", "big", "wait", "count"]);
    expect(res.commands[0]).toEqual({
      name: "greet",
      description: "greets someone",
      usage: "<name> [--shout] [--times N]",
      flags: [
        { name: "shout", description: "upper-case it", takesValue: false, defaultValue: "", short: "s" },
        { name: "times", description: "how many times", takesValue: true, defaultValue: "1", short: "" },
        { name: "suffix", description: "appended", takesValue: true, defaultValue: "", short: "" },
      ],
      readsStdin: false,
    });
    expect(res.commands.find((c) => c.name === "cat")?.readsStdin).toBe(true);
  });

  it("answers an empty list for a plugin without commands, and exit 2 for any command", async () => {
    const bare = await startPlugin(definePlugin({ metadata: { name: "bare", version: "1.0.0" } }));
    const bareClient = dial(bare.address);
    try {
      expect(await call<Empty, CommandsResponse>(bareClient, bareClient.commands, {})).toEqual({ commands: [] });
      const res = await call<ExecuteCommandRequest, ExecuteCommandResponse>(bareClient, bareClient.executeCommand, ExecuteCommandRequest.fromPartial({ command: "x" }));
      expect(res.exitCode).toBe(2);
      expect(text(res.stderr)).toBe('usage error: unknown command "x" of plugin bare (commands: none)\n');
    } finally {
      bareClient.close();
      await bare.close({ force: true });
    }
  });
});

describe("ExecuteCommand", () => {
  it("passes args and flags (long and short names, typed, defaults filled) and returns a string as stdout", async () => {
    expect(text((await run("greet", ["Ada", "L"])).stdout)).toBe("Hello, Ada L!\n");
    const res = await run("greet", ["Ada"], { s: "true", times: "2", suffix: "?" });
    expect(res.exitCode).toBe(0);
    expect(text(res.stdout)).toBe("HELLO, ADA?\nHELLO, ADA?\n");
    expect(res.stderr).toHaveLength(0);
    expect(text((await run("greet", ["x"], { shout: "false" })).stdout)).toBe("Hello, x!\n");
  });

  it("keeps stdout and stderr separate and byte-exact, with the returned exit code", async () => {
    const res = await run("bytes");
    expect(res.exitCode).toBe(3);
    expect(Buffer.from(res.stdout).equals(BINARY)).toBe(true);
    expect(Buffer.from(res.stderr).equals(Buffer.concat([Buffer.from("warn "), BINARY.subarray(0, 3)]))).toBe(true);
  });

  it("takes { stdout, stderr, exitCode } as a return value", async () => {
    const res = await run("result");
    expect([text(res.stdout), text(res.stderr), res.exitCode]).toEqual(["out", "err", 4]);
  });

  it("turns a throw into exit code 1 with the message on stderr, keeping what was written", async () => {
    const res = await run("fail");
    expect([text(res.stdout), text(res.stderr), res.exitCode]).toEqual(["partial\n", "error: boom\n", 1]);
  });

  it("exits with a CommandError's own code", async () => {
    const res = await run("refuse");
    expect([text(res.stderr), res.exitCode]).toEqual(["error: not allowed\n", 5]);
  });

  it("refuses a return value it cannot send, with a clear message", async () => {
    const res = await run("bad-return");
    expect(res.exitCode).toBe(1);
    expect(text(res.stderr)).toBe("error: returned a object; return an exit code, a string (stdout) or { stdout, stderr, exitCode }\n");
  });

  it("answers exit code 2 naming the commands for an unknown command", async () => {
    const res = await run("nope");
    expect(res.exitCode).toBe(2);
    expect(text(res.stderr)).toBe('usage error: unknown command "nope" of plugin cmds (commands: greet, bytes, result, fail, refuse, bad-return, cat, big, wait, count)\n');
  });

  it("answers exit code 2 for an undeclared flag or a bad flag value", async () => {
    const unknown = await run("greet", [], { loud: "true" });
    expect([text(unknown.stderr), unknown.exitCode]).toEqual(["usage error: greet: unknown flag --loud (flags: --shout, --times, --suffix)\n", 2]);
    const notNumber = await run("greet", [], { times: "many" });
    expect([text(notNumber.stderr), notNumber.exitCode]).toEqual(['usage error: greet: --times takes a number, got "many"\n', 2]);
    const badSwitch = await run("greet", [], { shout: "loudly" });
    expect(badSwitch.exitCode).toBe(2);
    expect(text(badSwitch.stderr)).toContain("--shout is a switch");
  });

  it("gives the command stdin, env and cwd", async () => {
    const res = await run("cat", [], {}, { stdin: BINARY, env: { LANG: "C.UTF-8" }, cwd: "/tmp/here" });
    expect(Buffer.from(res.stdout).equals(BINARY)).toBe(true);
    expect(text(res.stderr)).toBe("/tmp/here C.UTF-8");
  });

  it("caps each stream and says so on stderr", async () => {
    const res = await run("big");
    expect(res.exitCode).toBe(0);
    expect(res.stdout.length).toBe(MAX_COMMAND_OUTPUT_BYTES);
    expect(text(res.stderr)).toBe(`[qntx] stdout truncated: 100 bytes past the ${MAX_COMMAND_OUTPUT_BYTES}-byte limit dropped\n`);
  });

  it("aborts the command's signal when the caller's deadline passes, and keeps serving", async () => {
    const started = new Promise<void>((resolve) => (probe.started = resolve));
    const aborted = new Promise<void>((resolve) => (probe.aborted = resolve));
    const failed = run("wait", [], {}, {}, 300).then(
      () => undefined,
      (err: grpc.ServiceError) => err,
    );
    await started;
    expect((await failed)?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await aborted;
    expect(text((await run("greet", ["again"])).stdout)).toBe("Hello, again!\n");
  });

  it("reaches the host's services and config of the latest Initialize", async () => {
    expect((await run("count")).exitCode).toBe(9);
    fake.attestations.push({
      id: "AS-1", subjects: ["s"], predicates: ["note"], contexts: ["c"], actors: [], timestamp: 1, source: "t",
      attributes: {}, createdAt: 1, signature: Buffer.alloc(0), signerDid: "",
    });
    await call<InitializeRequest, InitializeResponse>(client, client.initialize, InitializeRequest.fromPartial({ atsStoreEndpoint: fake.address, authToken: TOKEN, config: { greeting: "Hi" } }));
    expect(text((await run("count")).stdout)).toBe("1\n");
    expect(text((await run("greet", ["Bo"])).stdout)).toBe("Hi, Bo!\n");
  });
});

describe("definePlugin({ commands }) validation", () => {
  const define = (commands: Record<string, unknown>) => () => definePlugin({ metadata: { name: "v", version: "1" }, commands: commands as Record<string, CommandDef> });
  const run0 = () => 0;

  it.each([
    [{ greet: { description: "no run" } }, "commands.greet.run must be a function"],
    [{ "-x": { run: run0 } }, 'commands: name "-x" is invalid'],
    [{ "two words": { run: run0 } }, 'commands: name "two words" is invalid'],
    [{ help: { run: run0 } }, 'commands: name "help" is invalid'],
    [{ greet: "nope" }, "commands.greet must be an object"],
    [{ greet: { run: run0, flags: [] } }, "commands.greet.flags must be an object"],
    [{ greet: { run: run0, flags: { help: {} } } }, 'commands.greet.flags.help: flag name "help" is invalid'],
    [{ greet: { run: run0, flags: { times: { type: "int" } } } }, "commands.greet.flags.times.type must be one of boolean, string, number"],
    [{ greet: { run: run0, flags: { times: { type: "number", default: "1" } } } }, "commands.greet.flags.times.default must be a number (the flag's type), got string"],
    [{ greet: { run: run0, flags: { shout: { short: "h" } } } }, "commands.greet.flags.shout.short must be one letter or digit other than \"h\""],
    [{ greet: { run: run0, flags: { a: { short: "x" }, b: { short: "x" } } } }, "commands.greet.flags.b.short: -x is already the alias of another flag of greet"],
    [{ greet: { run: run0, readsStdin: "yes" } }, "commands.greet.readsStdin must be a boolean"],
  ])("refuses %j", (commands, message) => {
    expect(define(commands)).toThrow(TypeError);
    expect(define(commands)).toThrow(message);
  });

  it("refuses commands that are not an object", () => {
    expect(define([] as unknown as Record<string, unknown>)).toThrow("commands must be an object of name → { description, usage, flags, run }");
  });
});
