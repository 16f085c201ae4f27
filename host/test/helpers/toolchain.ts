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

let cached: { missing: string; install: string } | undefined;

/** Why the toolchain is incomplete here ("" when it is whole), and the command that installs it. */
export function pythonToolchain(): { missing: string; install: string } {
  if (!cached) {
    const check = spawnSync("sh", [TOOLCHAIN_SH, "check"], { encoding: "utf8" });
    const command = spawnSync("sh", [TOOLCHAIN_SH, "command"], { encoding: "utf8" });
    const missing = check.status === 0 ? "" : check.stdout.trim() || check.stderr.trim() || `toolchain.sh check exited ${check.status}`;
    cached = { missing, install: command.stdout.trim() };
  }
  return cached;
}

/** Whether CI asked for every test to run (`CI=true`, as .ci/run sets). */
export function underCi(): boolean {
  const ci = (process.env.CI ?? "").toLowerCase();
  return ci !== "" && ci !== "0" && ci !== "false";
}

/** The one line that says why the Python tests of `file` do not run. */
function reasonLine(file: string): string {
  const { missing, install } = pythonToolchain();
  return `${basename(file)}: Python toolchain missing (${missing}); to run these tests: ${install} && pnpm build`;
}

const announced = new Set<string>();

/** Prints the reason once per test file (a plain line: console.warn would add a stack trace per call). */
function announceSkip(file: string): void {
  if (announced.has(file)) return;
  announced.add(file);
  process.stderr.write(`SKIPPED ${reasonLine(file)}\n`);
}

/**
 * `describe` for tests that need the toolchain. `file` is the calling test file
 * (`import.meta.url`), named in the printed reason.
 */
export function describeWithPython(file: string, title: string, body: () => void): void {
  if (!pythonToolchain().missing) {
    describe(title, body);
  } else if (underCi()) {
    describe(title, () => {
      it("needs the Python toolchain (CI=true: a skip is a failure)", () => {
        throw new Error(reasonLine(file));
      });
    });
  } else {
    announceSkip(file);
    describe.skip(`${title} (skipped: Python toolchain missing)`, body);
  }
}

/** `it` for one test that needs the toolchain, in a file whose other tests do not. */
export function itWithPython(file: string, title: string, test: () => Promise<void>, timeoutMs?: number): void {
  if (!pythonToolchain().missing) {
    it(title, test, timeoutMs);
  } else if (underCi()) {
    it(`${title} (needs the Python toolchain; CI=true: a skip is a failure)`, () => {
      throw new Error(reasonLine(file));
    });
  } else {
    announceSkip(file);
    it.skip(`${title} (skipped: Python toolchain missing)`, test);
  }
}
