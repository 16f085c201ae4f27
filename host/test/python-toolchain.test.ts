/**
 * The Python example when its toolchain (Debian's python3-grpcio, python3-protobuf,
 * protobuf-compiler, protobuf-compiler-grpc, libprotobuf-dev) is missing, as on a fresh
 * machine: `pnpm build` skips its stubs without failing (gen.sh), `pnpm start` installs the
 * packages as root or leaves it (toolchain.sh install), and pyplug ends `failed` with the
 * install command as its hint while the other plugins run. Then the rule of
 * helpers/toolchain.ts for tests that need the toolchain: skipped with one reason, a failure
 * under CI=true. Real processes throughout; "missing" is made per process (PROTOC, PYPLUG_PYTHON
 * pointing nowhere, a python without site-packages, a copy of the example without gen/), so
 * these tests run whether or not this machine has the toolchain.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execa } from "execa";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CLI, HELLO_PLUGIN, http, startTestHost, type TestHost } from "./harness.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";
import { itWithPython, PYTHON_EXAMPLE_DIR, pythonToolchain } from "./helpers/toolchain.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PACKAGES = readFileSync(join(PYTHON_EXAMPLE_DIR, "debian-packages"), "utf8").trim();
const IS_ROOT = process.getuid?.() === 0;
/** The command the example says installs its toolchain. */
const INSTALL = `${IS_ROOT ? "" : "sudo "}apt-get install -y ${PACKAGES}`;
/** pyplug's hint when Python cannot import grpc: install, generate, start it again. */
const INSTALL_HINT = `${INSTALL} && pnpm build && pnpm -s qntx plugin start pyplug`;
const NOWHERE = "/nonexistent/qntx-test";

afterAll(() => cleanupTempDirs());

/**
 * A copy of examples/python-plugin (without gen/ unless asked) at <tmp>/examples/python-plugin,
 * with the protos at <tmp>/proto where gen.sh looks for them.
 */
function copyExample(options: { withGen?: boolean } = {}): string {
  const root = makeTempDir("qntx-pyexample-");
  const dir = join(root, "examples", "python-plugin");
  cpSync(PYTHON_EXAMPLE_DIR, dir, {
    recursive: true,
    filter: (source) => !/\/(__pycache__|\.gen\.\d+)$/.test(source) && (options.withGen || !/\/gen$/.test(source)),
  });
  cpSync(join(ROOT, "proto"), join(root, "proto"), { recursive: true });
  return dir;
}

function sh(script: string, args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync("sh", [script, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("pnpm build without the toolchain (gen.sh)", () => {
  it("skips the stubs with one line saying why and what to install, and exits 0", () => {
    const dir = copyExample();
    const run = sh(join(dir, "gen.sh"), [], { PROTOC: `${NOWHERE}/protoc` });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      `python-plugin: skipped the Python stubs (the pyplug example will not start): ${NOWHERE}/protoc not found (Debian package protobuf-compiler); to build them: ${INSTALL} && pnpm build\n`,
    );
    expect(existsSync(join(dir, "gen"))).toBe(false);
  });

  it("names the package of whatever else is missing (the well-known .protos of libprotobuf-dev, python3)", () => {
    const dir = copyExample();
    const noWkt = sh(join(dir, "toolchain.sh"), ["check"], { PROTOC: process.execPath, GRPC_PYTHON_PLUGIN: process.execPath, PROTOBUF_INCLUDE: NOWHERE });
    expect([noWkt.status, noWkt.stdout]).toEqual([1, `google/protobuf/struct.proto not found in ${NOWHERE} (Debian package libprotobuf-dev)\n`]);
    const include = makeTempDir("qntx-wkt-");
    mkdirSync(join(include, "google", "protobuf"), { recursive: true });
    writeFileSync(join(include, "google", "protobuf", "struct.proto"), "");
    const noPython = sh(join(dir, "toolchain.sh"), ["check"], {
      PROTOC: process.execPath, GRPC_PYTHON_PLUGIN: process.execPath, PROTOBUF_INCLUDE: include, PYPLUG_PYTHON: `${NOWHERE}/python3`,
    });
    expect([noPython.status, noPython.stdout]).toEqual([1, `${NOWHERE}/python3 not found (Debian package python3)\n`]);
  });

  it("fails instead under QNTX_PYTHON_STUBS=required (how CI checks its package list)", () => {
    const dir = copyExample();
    const run = sh(join(dir, "gen.sh"), [], { PROTOC: `${NOWHERE}/protoc`, QNTX_PYTHON_STUBS: "required" });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`python-plugin: error: cannot generate the Python stubs: ${NOWHERE}/protoc not found (Debian package protobuf-compiler); install: ${INSTALL}\n`);
  });

  itWithPython(import.meta.url, "generates the stubs when the toolchain is whole", async () => {
    const dir = copyExample();
    const run = sh(join(dir, "gen.sh"), [], { QNTX_PYTHON_STUBS: "required" });
    expect([run.status, run.stderr]).toEqual([0, ""]);
    expect(run.stdout).toBe("python-plugin: generated 33 files in gen/ from 11 protos\n");
    expect(existsSync(join(dir, "gen", "domain_pb2_grpc.py"))).toBe(true);
  });
});

describe("pnpm start installs the packages as root (toolchain.sh install)", () => {
  /** A fake apt-get first on PATH: records its arguments; `install` fails while FAIL_INSTALL is set. */
  function fakeApt(failInstall: boolean): { env: Record<string, string>; calls: () => string[] } {
    const bin = makeTempDir("qntx-fake-apt-");
    const calls = join(bin, "calls");
    writeFileSync(join(bin, "apt-get"), `#!/bin/sh
echo "$*" >> "${calls}"
case "$1" in
  install) ${failInstall ? 'echo "E: Unable to locate package python3-grpcio" >&2; exit 100' : "exit 0"} ;;
  update) exit 0 ;;
esac
`);
    chmodSync(join(bin, "apt-get"), 0o755);
    // PROTOC pointing nowhere: the toolchain is "missing" before and after apt-get, as under
    // fresh-machine, where apt says "already installed" but cannot bring the files back.
    return {
      env: { PATH: `${bin}:${process.env.PATH}`, PROTOC: `${NOWHERE}/protoc` },
      calls: () => (existsSync(calls) ? readFileSync(calls, "utf8").trim().split("\n") : []),
    };
  }
  const announce = `python-plugin: installing Debian packages for the Python example: apt-get install -y ${PACKAGES} (QNTX_NO_APT=1 skips this)\n`;
  const installArgs = `install -y -qq --no-install-recommends ${PACKAGES}`;

  it("says so in one line, runs apt-get install once, and exits 0 when the tools are still missing after it", () => {
    const apt = fakeApt(false);
    const run = sh(join(PYTHON_EXAMPLE_DIR, "toolchain.sh"), ["install"], apt.env);
    expect(run.status).toBe(0);
    if (!IS_ROOT) {
      // Not root: nothing to try; the build's skip line says what to run.
      expect([run.stdout, apt.calls()]).toEqual(["", []]);
      return;
    }
    expect([run.stdout, run.stderr]).toEqual([announce, ""]);
    expect(apt.calls()).toEqual([installArgs]);
  });

  it("updates the package lists and tries again when the install fails; a second failure is one more line, still exit 0", () => {
    const apt = fakeApt(true);
    const run = sh(join(PYTHON_EXAMPLE_DIR, "toolchain.sh"), ["install"], apt.env);
    expect(run.status).toBe(0);
    if (!IS_ROOT) return;
    expect(run.stdout).toBe(`${announce}python-plugin: apt-get install failed: E: Unable to locate package python3-grpcio\n`);
    expect(apt.calls()).toEqual([installArgs, "update -qq", installArgs]);
  });

  it("does nothing with QNTX_NO_APT=1", () => {
    const apt = fakeApt(false);
    const run = sh(join(PYTHON_EXAMPLE_DIR, "toolchain.sh"), ["install"], { ...apt.env, QNTX_NO_APT: "1" });
    expect([run.status, run.stdout, run.stderr, apt.calls()]).toEqual([0, "", "", []]);
  });

  itWithPython(import.meta.url, "does nothing when the toolchain is whole", async () => {
    const apt = fakeApt(false);
    const run = sh(join(PYTHON_EXAMPLE_DIR, "toolchain.sh"), ["install"], { PATH: apt.env.PATH! });
    expect([run.status, run.stdout, apt.calls()]).toEqual([0, "", []]);
  });
});

describe("pyplug in a host when Python cannot run it", () => {
  let t: TestHost;
  let noStubs: string;
  let scaffolded: string;

  beforeAll(async () => {
    const runSh = join(PYTHON_EXAMPLE_DIR, "run.sh");
    // A real python3 that cannot see Debian's packages: -S skips site (dist-packages), as a
    // machine without python3-grpcio would be.
    const bare = join(makeTempDir("qntx-bare-python-"), "python3");
    writeFileSync(bare, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
    chmodSync(bare, 0o755);
    noStubs = copyExample();
    // A plugin from `qntx plugin new --lang python`: its run.sh generates its stubs at start.
    scaffolded = makeTempDir("qntx-pyscaffold-");
    writeFileSync(join(scaffolded, "am.plugins.toml"), "");
    const made = await execa(process.execPath, [CLI, "plugin", "new", "pyscaf", "--lang", "python"], { cwd: scaffolded, reject: false });
    expect(made.exitCode).toBe(0);
    t = await startTestHost([
      `[plugins.hello]\nbinary = ${JSON.stringify(HELLO_PLUGIN)}\n`,
      `[plugins.nopython]\nbinary = ${JSON.stringify(runSh)}\nenv = { PYPLUG_PYTHON = "${NOWHERE}/python3" }\n`,
      `[plugins.nogrpc]\nbinary = ${JSON.stringify(runSh)}\nenv = { PYPLUG_PYTHON = ${JSON.stringify(bare)} }\n`,
      `[plugins.nostubs]\nbinary = ${JSON.stringify(join(noStubs, "run.sh"))}\n`,
      `[plugins.pyscaf]\nbinary = ${JSON.stringify(join(scaffolded, "plugins", "pyscaf", "run.sh"))}\nenv = { PROTOC = "${NOWHERE}/protoc" }\n`,
    ].join("\n"));
  });

  afterAll(async () => {
    await t?.close();
  });

  /** The plugin as `GET /api/plugins` shows it to anyone (no admin token), as the README's curl does. */
  async function shown(name: string): Promise<{ state: string; error: string; hint: string | null }> {
    const { plugins } = (await http(`${t.url}/api/plugins`)).json();
    return plugins.find((p: { name: string }) => p.name === name);
  }

  it("keeps the other plugins running", async () => {
    expect((await shown("hello")).state).toBe("running");
    expect((await http(`${t.url}/api/hello/hello?name=fresh`)).json()).toEqual({ message: "Hello, fresh!" });
  });

  it("no python: failed, with the install command as its hint (run.sh, exit code 3)", async () => {
    expect(await shown("nopython")).toMatchObject({ state: "failed", hint: INSTALL_HINT });
    const error = t.host.registry.get("nopython")!.error!;
    expect(error).toContain("plugin nopython exited before announcing its port (exit code 3)");
    expect(error).toContain(`pyplug: ${NOWHERE}/python3 not found (Debian package python3)`);
  });

  it("a python without grpc: failed, with the install command as its hint (plugin.py, exit code 3)", async () => {
    expect(await shown("nogrpc")).toMatchObject({ state: "failed", hint: INSTALL_HINT });
    const error = t.host.registry.get("nogrpc")!.error!;
    expect(error).toContain("(exit code 3)");
    expect(error).toContain("cannot import Python's gRPC");
  });

  it("no generated stubs: failed, with gen.sh as its hint (or the install command, where grpc is missing too)", async () => {
    const expected = pythonToolchain().missing ? INSTALL_HINT : `sh ${join(noStubs, "gen.sh")} && pnpm -s qntx plugin start pyplug`;
    expect(await shown("nostubs")).toMatchObject({ state: "failed", hint: expected });
    expect(t.host.registry.get("nostubs")!.error).toContain("(exit code 3)");
  });

  it("a scaffolded Python plugin that cannot generate its stubs: failed, with the install command as its hint", async () => {
    expect(await shown("pyscaf")).toMatchObject({ state: "failed", hint: `apt-get install -y ${PACKAGES}` });
    expect(t.host.registry.get("pyscaf")!.error).toContain(`pyscaf: ${NOWHERE}/protoc not found (Debian package protobuf-compiler)`);
  });
});

describe("tests that need the toolchain (helpers/toolchain.ts)", () => {
  const JEST = join(ROOT, "node_modules", "jest", "bin", "jest.js");

  /** Runs the fixture suite in a jest of its own, the toolchain made missing by PROTOC. */
  async function fixtureRun(ci: string): Promise<{ exitCode: number | undefined; stderr: string; results: any }> {
    const out = join(makeTempDir("qntx-fixture-jest-"), "results.json");
    const run = await execa(process.execPath, [
      JEST, "--config", join(ROOT, "host", "jest.config.js"), "--testMatch", "<rootDir>/test/fixtures/toolchain-suite/*.fixture.ts",
      "--json", "--outputFile", out,
    ], {
      cwd: ROOT,
      reject: false,
      env: { CI: ci, PROTOC: `${NOWHERE}/protoc`, NODE_OPTIONS: "--experimental-vm-modules --no-warnings=ExperimentalWarning" },
    });
    return { exitCode: run.exitCode, stderr: run.stderr, results: JSON.parse(readFileSync(out, "utf8")) };
  }

  it("are skipped with one printed reason, or fail with it under CI=true", async () => {
    const [local, ci] = await Promise.all([fixtureRun("false"), fixtureRun("true")]);
    const reason = `needs-python.fixture.ts: Python toolchain missing (${NOWHERE}/protoc not found (Debian package protobuf-compiler)); to run these tests: ${INSTALL} && pnpm build`;

    expect(local.exitCode).toBe(0);
    expect(local.results).toMatchObject({ numPassedTests: 1, numPendingTests: 3, numFailedTests: 0 });
    // One line for the file, not one per test.
    expect(local.stderr.split("\n").filter((line) => line.startsWith("SKIPPED "))).toEqual([`SKIPPED ${reason}`]);

    expect(ci.exitCode).toBe(1);
    expect(ci.results).toMatchObject({ numPassedTests: 1, numPendingTests: 0, numFailedTests: 2 });
    const failures = ci.results.testResults[0].assertionResults.filter((a: { status: string }) => a.status === "failed");
    expect(failures.map((a: { fullName: string }) => a.fullName)).toEqual([
      "a suite that needs Python needs the Python toolchain (CI=true: a skip is a failure)",
      "a suite with one Python test the Python one (needs the Python toolchain; CI=true: a skip is a failure)",
    ]);
    for (const failure of failures) expect(failure.failureMessages[0]).toContain(reason);
    expect(ci.stderr).not.toContain("SKIPPED");
  }, 90_000);
});

describe(".ci/run", () => {
  it("installs every package the example needs (its APT_PACKAGES line)", () => {
    const line = /^APT_PACKAGES="([^"]*)"$/m.exec(readFileSync(join(ROOT, ".ci", "run"), "utf8"));
    expect(line).not.toBeNull();
    const ci = line![1]!.split(/\s+/);
    for (const pkg of PACKAGES.split(/\s+/)) expect(ci).toContain(pkg);
  });
});
