/**
 * A plugin's own hint (docs/writing-plugins.md §1, "Say what to do when you cannot start"): a
 * stderr line `hint: …` or `<program>: hint: …` printed before the plugin exits during its
 * start becomes the start error's hint, in place of the host's generic one, and the registry
 * keeps it for `GET /api/plugins` and `qntx plugin list`. Real processes: `node -e` scripts
 * through PluginProcess, and script plugins under a real host.
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import { execa } from "execa";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { QntxError } from "@qntx/protocol";
import { PluginProcess } from "../src/plugin/process.js";
import { adminHeaders, CLI, http, startTestHost, type TestHost } from "./harness.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";
import { inlineScriptSpec } from "./helpers/plugin-process.js";


/** Spawns a script that writes `stderr` and `stdout`, then exits 3; resolves with the start's error. */
async function failingStart(name: string, output: { stderr?: string; stdout?: string }): Promise<QntxError> {
  const script = `
    process.stdout.write(${JSON.stringify(output.stdout ?? "")});
    process.stderr.write(${JSON.stringify(output.stderr ?? "")}, () => process.exit(3));`;
  const error = await PluginProcess.spawn(inlineScriptSpec(name, script)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(QntxError);
  return error as QntxError;
}

describe("PluginProcess: a plugin that exits before its port line", () => {
  it("gives the hint of its `hint:` line", async () => {
    const error = await failingStart("hinted", { stderr: "hinted: libfoo is missing\nhint: apt-get install -y libfoo\n" });
    expect(error.code).toBe("EXITED_BEFORE_PORT");
    expect(error.hint).toBe("apt-get install -y libfoo");
    // The message still quotes what it printed.
    expect(error.message).toContain("hinted: libfoo is missing");
  });

  it("takes the `<program>: hint:` form, and the last hint line when there are several", async () => {
    const error = await failingStart("twice", { stderr: "twice: hint: first advice\ntwice: hint: second advice  \n" });
    expect(error.hint).toBe("second advice");
  });

  it("keeps the host's own hint (run it by hand) when the plugin printed none", async () => {
    const error = await failingStart("plain", { stderr: "fatal: something broke\n" });
    expect(error.hint).toMatch(/^run it by hand to see why: [^]*--port 1$/);
  });

  it("leaves the config's args (which may hold secrets) out of the host's own hint", async () => {
    const script = `process.stderr.write("fatal\\n", () => process.exit(3));`;
    const error = await PluginProcess.spawn({ ...inlineScriptSpec("secret", script), args: ["--api-key", "s3cr3t"] }).then(() => undefined, (e: unknown) => e as QntxError);
    expect(error!.hint).toMatch(/--port 1 and the args of its config entry$/);
    expect(error!.hint).not.toContain("s3cr3t");
  });

  it("does not take a `hint:` line from stdout (stdout is for the port line)", async () => {
    const error = await failingStart("stdout", { stdout: "hint: not from here\n", stderr: "fatal\n" });
    expect(error.hint).toMatch(/^run it by hand/);
  });
});

describe("under a host", () => {
  let t: TestHost | undefined;
  afterAll(async () => {
    await t?.close();
    cleanupTempDirs();
  });

  it("a plugin that fails with a hint is `failed`, /api/plugins and `qntx plugin list` show the hint, and it is not restarted", async () => {
    const dir = makeTempDir("qntx-hint-test-");
    // Before its port line, and (second plugin) after it but before answering Metadata: both
    // ways a start ends with the plugin's exit carry its hint.
    const early = join(dir, "early.mjs");
    writeFileSync(early, `process.stderr.write("early: the database file is missing\\nearly: hint: run ./setup.sh first\\n", () => process.exit(3));\n`);
    const late = join(dir, "late.mjs");
    writeFileSync(late, `process.stdout.write("QNTX_PLUGIN_PORT=1\\n");\nprocess.stderr.write("hint: set LATE_TOKEN\\n", () => process.exit(4));\n`);
    t = await startTestHost(
      `[plugins.early]\nbinary = ${JSON.stringify(early)}\n\n[plugins.late]\nbinary = ${JSON.stringify(late)}\n`,
      // A crash would be restarted almost at once: a start failure must not be.
      { restart_backoff_base_ms: 10, restart_backoff_max_ms: 20 },
    );
    const host = t;
    const transitions: string[] = [];
    host.host.registry.on("plugin:state", ({ name, state }) => transitions.push(`${name}:${state}`));

    const { plugins } = (await http(`${host.url}/api/plugins`)).json();
    const byName = (name: string) => plugins.find((p: { name: string }) => p.name === name);
    expect(byName("early")).toMatchObject({ state: "failed", hint: "run ./setup.sh first" });
    expect(byName("early").error).toContain("exited before announcing its port (exit code 3)");
    expect(byName("late")).toMatchObject({ state: "failed", hint: "set LATE_TOKEN" });
    expect(byName("late").error).toContain("exited while starting, before answering Metadata (exit code 4)");

    const list = await execa(process.execPath, [CLI, "--data-dir", join(host.dir, "data"), "plugin", "list"], { reject: false, env: { QNTX_HOST: "" } });
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toContain("early: plugin early exited before announcing its port (exit code 3)");
    expect(list.stdout).toContain("\n  hint: run ./setup.sh first");
    expect(list.stdout).toContain("\n  hint: set LATE_TOKEN");

    // A start that fails is final until someone starts it: no restart is pending (a crash
    // would have one due within 20 ms), and nothing has moved since.
    for (const name of ["early", "late"]) expect(host.host.registry.instance(name)!.restartAt).toBeUndefined();
    expect(transitions).toEqual([]);

    // Starting it by hand tries once more and fails the same way, with the hint in the answer.
    const started = await http(`${host.url}/api/plugins/early/start`, { method: "POST", headers: adminHeaders(host), body: "{}" });
    expect(started.status).toBeGreaterThanOrEqual(400);
    expect(started.json()).toMatchObject({ code: "EXITED_BEFORE_PORT", hint: "run ./setup.sh first" });
    expect(host.host.registry.get("early")).toMatchObject({ state: "failed", hint: "run ./setup.sh first" });
  });
});
