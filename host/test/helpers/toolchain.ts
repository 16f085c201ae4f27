/**
 * Tests that need the Python example's toolchain (Debian's python3-grpcio, python3-protobuf,
 * protoc, grpc_python_plugin, libprotobuf-dev): one place decides whether they run.
 *
 * The check is the example's own (`sh examples/python-plugin/toolchain.sh check`), so tests,
 * `pnpm build` and the plugin agree on what "missing" means. When the toolchain is there the
 * tests run. When it is not, they are skipped with one printed line per test file, except
 * under `CI=true`, where a skip would hide a broken CI machine: there the suite is one test
 * that fails with the reason.
 */
import { describe, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { basename } from "node:path";

/** The Python example's folder. */
export const PYTHON_EXAMPLE_DIR = fileURLToPath(new URL("../../../examples/python-plugin", import.meta.url));
/** Its toolchain script (`check`, `command`, `install`). */
export const TOOLCHAIN_SH = `${PYTHON_EXAMPLE_DIR}/toolchain.sh`;

/**
 * The state of the toolchain whose script is `script` (a `sh` script answering `check`: silent
 * and 0 when whole, else why on stdout; and `command`: the install command), read once.
 */
export function scriptToolchain(script: string): () => ToolchainState {
  let cached: ToolchainState | undefined;
  return () => {
    if (!cached) {
      const check = spawnSync("sh", [script, "check"], { encoding: "utf8" });
      const command = spawnSync("sh", [script, "command"], { encoding: "utf8" });
      const missing = check.status === 0 ? "" : check.stdout.trim() || check.stderr.trim() || `${basename(script)} check exited ${check.status}`;
      cached = { missing, install: command.stdout.trim() };
    }
    return cached;
  };
}

/** Why the Python toolchain is incomplete here ("" when it is whole), and the command that installs it. */
export const pythonToolchain: () => ToolchainState = scriptToolchain(TOOLCHAIN_SH);

/** Whether CI asked for every test to run (`CI=true`, as .ci/run sets). */
export function underCi(): boolean {
  const ci = (process.env.CI ?? "").toLowerCase();
  return ci !== "" && ci !== "0" && ci !== "false";
}

/** Whether a toolchain is whole here: why not ("" when it is), and the command that installs it. */
export interface ToolchainState {
  readonly missing: string;
  readonly install: string;
}

/** `describe` and `it` for tests that need one toolchain, made by {@link toolchainGate}. */
export interface ToolchainGate {
  /** `describe` for a suite that needs the toolchain; `file` is the calling test file (`import.meta.url`), named in the reason. */
  describe(file: string, title: string, body: () => void): void;
  /** `it` for one test that needs the toolchain, in a file whose other tests do not. */
  it(file: string, title: string, test: () => Promise<void>, timeoutMs?: number): void;
}

/**
 * The rule above for the toolchain called `label` ("Python", "Go"), whose state `state` says:
 * run when it is whole; otherwise skip with one printed line per test file, or fail with that
 * line under CI=true.
 */
export function toolchainGate(label: string, state: () => ToolchainState): ToolchainGate {
  const reasonLine = (file: string): string => {
    const { missing, install } = state();
    return `${basename(file)}: ${label} toolchain missing (${missing}); to run these tests: ${install} && pnpm build`;
  };
  return {
    describe(file, title, body) {
      if (!state().missing) {
        describe(title, body);
      } else if (underCi()) {
        describe(title, () => {
          it(`needs the ${label} toolchain (CI=true: a skip is a failure)`, () => {
            throw new Error(reasonLine(file));
          });
        });
      } else {
        announceSkip(file, reasonLine(file));
        describe.skip(`${title} (skipped: ${label} toolchain missing)`, body);
      }
    },
    it(file, title, test, timeoutMs) {
      if (!state().missing) {
        it(title, test, timeoutMs);
      } else if (underCi()) {
        it(`${title} (needs the ${label} toolchain; CI=true: a skip is a failure)`, () => {
          throw new Error(reasonLine(file));
        });
      } else {
        announceSkip(file, reasonLine(file));
        it.skip(`${title} (skipped: ${label} toolchain missing)`, test);
      }
    },
  };
}

const announced = new Set<string>();

/** Prints the reason once per test file and reason (a plain line: console.warn would add a stack trace per call). */
function announceSkip(file: string, line: string): void {
  if (announced.has(`${file}\0${line}`)) return;
  announced.add(`${file}\0${line}`);
  process.stderr.write(`SKIPPED ${line}\n`);
}

const python = toolchainGate("Python", pythonToolchain);

/**
 * `describe` for tests that need the toolchain. `file` is the calling test file
 * (`import.meta.url`), named in the printed reason.
 */
export const describeWithPython: ToolchainGate["describe"] = python.describe;

/** `it` for one test that needs the toolchain, in a file whose other tests do not. */
export const itWithPython: ToolchainGate["it"] = python.it;
