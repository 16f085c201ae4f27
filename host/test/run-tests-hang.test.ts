/**
 * scripts/run-tests.mjs's safety net, on a real nested jest run (fixtures/jest-hang): a test
 * file that leaves a server listening keeps jest alive after its results, so the script names
 * that file and its open handle, kills jest (and nothing stays behind) and fails the run; a
 * file that closes what it opens passes without the net firing.
 */
import { describe, expect, it } from "@jest/globals";
import { execa } from "execa";
import { fileURLToPath } from "node:url";
import { processesWithArgs } from "./harness.js";

const RUN_TESTS = fileURLToPath(new URL("../../scripts/run-tests.mjs", import.meta.url));
const FIXTURE_CONFIG = fileURLToPath(new URL("./fixtures/jest-hang/jest.config.js", import.meta.url));

/** Runs run-tests.mjs on one fixture file and waits for it to exit. */
function runTests(fixture: string, env: Record<string, string> = {}) {
  return execa(process.execPath, [RUN_TESTS, "--config", FIXTURE_CONFIG, fixture], { reject: false, env, all: true });
}

// A nested jest starts from cold on a busy machine.
const NESTED_RUN_MS = 120_000;

describe("scripts/run-tests.mjs", () => {
  it("kills a jest that does not exit after its results, names the file that kept it alive, and fails", async () => {
    // The leak holds jest for ever, so the grace can be short: what is checked is the outcome.
    const run = await runTests("leaks-a-server", { QNTX_TEST_EXIT_GRACE_MS: "1000" });
    expect(run.exitCode).toBe(1);
    expect(run.all).toContain("jest did not exit 1 s after its results");
    expect(run.all).toMatch(/host\/test\/fixtures\/jest-hang\/leaks-a-server\.fixture\.mjs: TCPServerWrap ×1/);
    expect(run.stdout).toMatch(/^1 passed, 1 failed \(jest hung after its results and was killed\)$/m);
    // The kill reached jest: no process of this run still has the fixture config in its arguments.
    expect(processesWithArgs([FIXTURE_CONFIG])).toEqual([]);
  }, NESTED_RUN_MS);

  it("lets a jest that closes what it opens exit by itself, and passes", async () => {
    const run = await runTests("closes-its-timer");
    expect(run.exitCode).toBe(0);
    expect(run.all).not.toContain("jest did not exit");
    expect(run.all).not.toContain("ended with handles open");
    expect(run.stdout).toMatch(/^1 passed, 0 failed$/m);
  }, NESTED_RUN_MS);
});
