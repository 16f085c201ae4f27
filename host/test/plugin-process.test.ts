/**
 * PluginProcess on real processes: a plugin that exits at once must still have its last
 * output in the error. The exit can be seen before the pipes were read; CI once reported
 * "exited before announcing its port (exit code 3)" without the line the plugin printed.
 */
import { describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { PluginProcess, terminateGroup } from "../src/plugin/process.js";
import { inlineScriptSpec } from "./helpers/plugin-process.js";

/** Spawns `node -e <script>` as a plugin; the script gets `--port <n>` like any plugin. */
function spawnScript(name: string, script: string): ReturnType<typeof PluginProcess.spawn> {
  return PluginProcess.spawn(inlineScriptSpec(name, script));
}


/** Blocks the event loop for `ms` (to line up what one poll round of the loop sees). */
function blockLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

describe("a plugin that exits before announcing its port", () => {
  // libuv reaps every exited child on any SIGCHLD, after the other I/O of that loop turn. So
  // when another child's exit is handled in a turn whose I/O callbacks take a while (a loaded
  // host starting many plugins), a plugin that printed its last line and exited meanwhile is
  // reaped before its pipe is read. Lined up here: B prints and exits while the loop is blocked,
  // so one turn has B's output and B's SIGCHLD; B's output handler tells the plugin to print
  // and exit, and blocks until it has. The old code lost the line in 10 of 10 runs.
  it.each([1, 2, 3])("reports its last line when its exit is reaped before its output is read (run %i)", async () => {
    let pluginPid = 0;
    let announceReady!: () => void;
    const ready = new Promise<void>((resolve) => (announceReady = resolve));
    const script = `
      process.on("SIGUSR2", () => process.stderr.write("fatal: the very last line\\n", () => process.exit(3)));
      console.log("ready");
      setInterval(() => {}, 1000);`;
    const spawned = PluginProcess.spawn({
      ...inlineScriptSpec("reaped-early", script),
      output: {
        started: (pid) => (pluginPid = pid),
        line: (_stream, _level, line) => line === "ready" && announceReady(),
        exited: () => undefined,
      },
    });
    const failure = spawned.then(
      () => undefined,
      (e: Error) => e,
    );
    await ready;
    const other = spawn("sh", ["-c", "echo go"], { stdio: ["ignore", "pipe", "ignore"] });
    other.stdout.once("data", () => {
      process.kill(pluginPid, "SIGUSR2");
      blockLoop(300);
    });
    blockLoop(200);
    const error = await failure;
    expect(error?.message).toContain("exited before announcing its port (exit code 3)");
    expect(error?.message).toContain("fatal: the very last line");
  });

  it("reports a last line that has no newline", async () => {
    const error = await spawnScript("partial", `process.stderr.write("fatal: no newline"); process.exit(4);`).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toContain("exit code 4");
    expect(error?.message).toContain("fatal: no newline");
  });

  it("does not wait for a child that keeps the plugin's pipes open after the plugin exited", async () => {
    // The plugin leaves a `sleep` holding its stderr: the error still comes, after the drain cap.
    const script = `
      require("node:child_process").spawn("sleep", ["30"], { stdio: ["ignore", "ignore", "inherit"] }).unref();
      process.stderr.write("fatal: leaving a child behind\\n");
      process.exit(5);`;
    let pluginPid = 0;
    const started = Date.now();
    const error = await PluginProcess.spawn({ ...inlineScriptSpec("leaves-child", script), output: { started: (pid) => (pluginPid = pid), line: () => undefined, exited: () => undefined } }).then(
      () => undefined,
      (e: Error) => e,
    );
    await terminateGroup(pluginPid, 1000); // the sleep it left behind
    expect(error?.message).toContain("exit code 5");
    expect(error?.message).toContain("fatal: leaving a child behind");
    // Well under the sleep's 30 s (the cap is 500 ms; generous for a loaded machine).
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
