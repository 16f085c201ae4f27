/**
 * The Go example and SDK when the Go toolchain (Debian's golang-go and the Go libraries the SDK
 * imports, sdk-go/debian-packages) is missing, as on a fresh machine: `pnpm build` skips the
 * example without failing (build.sh), goplug's launcher (run.sh) prints the install command as
 * its `hint:` line, and in a host goplug ends `failed` with that hint while the other plugins run.
 * "Missing" is made per process (GO pointing nowhere, GOCODE at a folder without the
 * libraries), and "whole" by a stand-in `go` and GOCODE, so these tests run whether or not this
 * machine has Go. Real processes throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLI, HELLO_PLUGIN, http, startTestHost, type TestHost } from "./harness.js";
import { GO_EXAMPLE_DIR, SDK_GO_DIR } from "./helpers/go-toolchain.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PACKAGES = readFileSync(join(SDK_GO_DIR, "debian-packages"), "utf8").trim();
const IS_ROOT = process.getuid?.() === 0;
const INSTALL = `${IS_ROOT ? "" : "sudo "}apt-get install -y ${PACKAGES}`;
const NOWHERE = "/nonexistent/qntx-test";
/** The libraries go_check looks for, with their packages. */
const LIBRARIES = ["google.golang.org/grpc", "google.golang.org/protobuf/proto", "github.com/golang/protobuf/proto", "go.uber.org/zap", "github.com/spf13/cobra"];

afterAll(() => cleanupTempDirs());

/**
 * A copy of the example's scripts (no sources, no bin/) at <tmp>/examples/go-plugin, with the
 * SDK's toolchain script at <tmp>/sdk-go where they look for it.
 */
function copyExample(): string {
  const root = makeTempDir("qntx-goexample-");
  const dir = join(root, "examples", "go-plugin");
  mkdirSync(dir, { recursive: true });
  for (const f of ["build.sh", "run.sh"]) cpSync(join(GO_EXAMPLE_DIR, f), join(dir, f));
  mkdirSync(join(root, "sdk-go"));
  for (const f of ["toolchain.sh", "debian-packages"]) cpSync(join(SDK_GO_DIR, f), join(root, "sdk-go", f));
  return dir;
}

/** A stand-in for a whole toolchain: a `go` that answers `version`, and GOCODE with every library folder. */
function wholeToolchain(): Record<string, string> {
  const dir = makeTempDir("qntx-fake-go-");
  writeFileSync(join(dir, "go"), '#!/bin/sh\n[ "$1" = version ] && echo "go version go1.19.8 linux/amd64"\n');
  chmodSync(join(dir, "go"), 0o755);
  for (const lib of LIBRARIES) {
    mkdirSync(join(dir, "gocode", "src", lib), { recursive: true });
    writeFileSync(join(dir, "gocode", "src", lib, "x.go"), "package x\n");
  }
  return { GO: join(dir, "go"), GOCODE: join(dir, "gocode") };
}

function sh(script: string, args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync("sh", [script, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("the toolchain check (sdk-go/toolchain.sh)", () => {
  it("names the Debian package of what is missing", () => {
    const toolchain = join(SDK_GO_DIR, "toolchain.sh");
    expect(sh(toolchain, ["check"], { GO: `${NOWHERE}/go` })).toMatchObject({ status: 1, stdout: `${NOWHERE}/go not found (Debian package golang-go)\n` });
    const whole = wholeToolchain();
    expect(sh(toolchain, ["check"], whole)).toMatchObject({ status: 0, stdout: "" });
    const noLibraries = { ...whole, GOCODE: makeTempDir("qntx-empty-gocode-") };
    expect(sh(toolchain, ["check"], noLibraries)).toMatchObject({
      status: 1, stdout: `${noLibraries.GOCODE}/src/google.golang.org/grpc not found (Debian package golang-google-grpc-dev)\n`,
    });
    expect(sh(toolchain, ["command"]).stdout).toBe(`${INSTALL}\n`);
  });
});

describe("pnpm build without the toolchain (examples/go-plugin/build.sh)", () => {
  it("skips the example with one line saying why and what to install, and exits 0", () => {
    const dir = copyExample();
    const run = sh(join(dir, "build.sh"), [], { GO: `${NOWHERE}/go` });
    expect(run).toEqual({
      status: 0, stdout: "",
      stderr: `go-plugin: skipped the Go example (the goplug plugin will not start): ${NOWHERE}/go not found (Debian package golang-go); to build it: ${INSTALL} && pnpm build\n`,
    });
    expect(existsSync(join(dir, "bin"))).toBe(false);
  });

  it("fails instead under QNTX_GO_PLUGIN=required (how CI checks its package list)", () => {
    const run = sh(join(copyExample(), "build.sh"), [], { GO: `${NOWHERE}/go`, QNTX_GO_PLUGIN: "required" });
    expect(run).toMatchObject({ status: 1, stderr: `go-plugin: error: cannot build the Go example: ${NOWHERE}/go not found (Debian package golang-go); install: ${INSTALL}\n` });
  });
});

describe("goplug's launcher without a built binary (examples/go-plugin/run.sh)", () => {
  it("without Go: exit code 3 before any port line, the apt-get command as its hint", () => {
    const run = sh(join(copyExample(), "run.sh"), ["--port", "0"], { GO: `${NOWHERE}/go` });
    expect(run).toEqual({
      status: 3, stdout: "",
      stderr: `goplug: ${NOWHERE}/go not found (Debian package golang-go): the Go example cannot be built\ngoplug: hint: ${INSTALL} && pnpm build && pnpm -s qntx plugin start goplug\n`,
    });
  });

  it("with Go but not built: the hint is to build it", () => {
    const dir = copyExample();
    const run = sh(join(dir, "run.sh"), ["--port", "0"], wholeToolchain());
    expect(run).toEqual({
      status: 3, stdout: "",
      stderr: `goplug: ${dir}/bin/goplug is not built\ngoplug: hint: pnpm build && pnpm -s qntx plugin start goplug\n`,
    });
  });
});

describe("a scaffolded Go plugin (qntx plugin new --lang go) without the toolchain", () => {
  it("exits 3 from run.sh before any port line, the apt-get command as its last stderr line", async () => {
    const dir = makeTempDir("qntx-goscaffold-");
    const made = spawnSync(process.execPath, [CLI, "plugin", "new", "nogo", "--lang", "go"], { cwd: dir, encoding: "utf8" });
    expect(made.status).toBe(0);
    expect(made.stdout).toContain(`Created plugins/nogo/ (go): plugin.go, main.go, go.mod, run.sh, build.sh, .gitignore, README.md, sdk-go/ (`);
    expect(made.stdout).toContain(`  apt-get install -y ${PACKAGES}   # if not installed yet\n  sh plugins/nogo/build.sh`);
    const run = sh(join(dir, "plugins", "nogo", "run.sh"), ["--port", "0"], { GO: `${NOWHERE}/go` });
    expect(run).toEqual({
      status: 3, stdout: "",
      stderr: `nogo: ${NOWHERE}/go not found (Debian package golang-go)\nnogo: hint: ${INSTALL}\n`,
    });
  });
});

describe("goplug in a host when it cannot run", () => {
  let t: TestHost;

  beforeAll(async () => {
    t = await startTestHost([
      `[plugins.hello]\nbinary = ${JSON.stringify(HELLO_PLUGIN)}\n`,
      `[plugins.goplug]\nbinary = ${JSON.stringify(join(copyExample(), "run.sh"))}\nenv = { GO = "${NOWHERE}/go" }\n`,
    ].join("\n"));
  });

  afterAll(async () => {
    await t?.close();
  });

  it("is failed, with the install command as its hint, while the other plugins run", async () => {
    const { plugins } = (await http(`${t.url}/api/plugins`)).json();
    const byName = Object.fromEntries(plugins.map((p: { name: string }) => [p.name, p]));
    expect(byName.hello.state).toBe("running");
    expect(byName.goplug).toMatchObject({ state: "failed", hint: `${INSTALL} && pnpm build && pnpm -s qntx plugin start goplug` });
    expect(t.host.registry.get("goplug")!.error).toContain("(exit code 3)");
    expect((await http(`${t.url}/api/hello/hello?name=fresh`)).json()).toEqual({ message: "Hello, fresh!" });
  });
});

describe(".ci/run", () => {
  const ci = readFileSync(join(ROOT, ".ci", "run"), "utf8");

  it("installs every package the Go SDK and its stub generation need (its APT_PACKAGES line)", () => {
    const line = /^APT_PACKAGES="([^"]*)"$/m.exec(ci);
    expect(line).not.toBeNull();
    const listed = line![1]!.split(/\s+/);
    for (const pkg of [...PACKAGES.split(/\s+/), "protoc-gen-go", "protoc-gen-go-grpc", "protobuf-compiler"]) expect(listed).toContain(pkg);
  });

  it("runs the SDK's go tests and builds the example as a required step", () => {
    expect(ci).toContain("sh sdk-go/test.sh");
    expect(ci).toContain("QNTX_GO_PLUGIN=required");
  });
});

describe("pnpm gen:check and the Go stubs (scripts/check-gen.mjs)", () => {
  /** A copy of what check-gen.mjs reads, so a stub can be broken without touching the repository. */
  function copyRepo(): string {
    const root = makeTempDir("qntx-gencheck-");
    for (const path of ["scripts/check-gen.mjs", "buf.gen.yaml", "proto", "packages/protocol/src/gen", "sdk-go/gen.sh", "sdk-go/protocol"]) {
      cpSync(join(ROOT, path), join(root, path), { recursive: true });
    }
    symlinkSync(join(ROOT, "node_modules"), join(root, "node_modules"));
    return root;
  }

  function check(root: string, env: Record<string, string>) {
    return spawnSync(process.execPath, [join(root, "scripts", "check-gen.mjs")], { encoding: "utf8", env: { ...process.env, CI: "", ...env } });
  }

  it("skips the Go check in one line where protoc-gen-go is missing, and fails under CI=true", () => {
    const root = copyRepo();
    const local = check(root, { PROTOC_GEN_GO: `${NOWHERE}/protoc-gen-go` });
    expect(local.status).toBe(0);
    expect(local.stdout).toContain(`Skipped the Go stubs check: cannot generate the Go stubs: ${NOWHERE}/protoc-gen-go not found (Debian package protoc-gen-go); install: apt-get install -y protobuf-compiler protoc-gen-go protoc-gen-go-grpc\n`);
    const ci = check(root, { PROTOC_GEN_GO: `${NOWHERE}/protoc-gen-go`, CI: "true" });
    expect(ci.status).toBe(1);
    expect(ci.stderr).toContain("Could not regenerate the Go stubs (sdk-go/gen.sh exited 3; CI=true needs them)");
  }, 30_000);

  it("fails on a stale Go stub, naming it and the command that regenerates it", () => {
    const root = copyRepo();
    const stub = join(root, "sdk-go", "protocol", "queue.pb.go");
    writeFileSync(stub, `${readFileSync(stub, "utf8")}// edited by hand\n`);
    const run = check(root, {});
    if (spawnSync("sh", ["-c", "command -v protoc-gen-go && command -v protoc-gen-go-grpc && command -v protoc"]).status !== 0) {
      // Without the generators the stale stub cannot be seen: the check says it skipped.
      expect([run.status, run.stdout]).toEqual([0, expect.stringContaining("Skipped the Go stubs check")]);
      return;
    }
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("Generated Go stubs are stale (sdk-go/protocol/queue.pb.go).\nRun `pnpm gen:go` and commit the result.");
  }, 30_000);
});
