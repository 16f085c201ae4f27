/**
 * The package bins (`qntx` of @qntx/host, `qntx-ts-runner` of @qntx/sdk) are files of the
 * source tree that import dist/: `pnpm install` on a fresh clone links them before anything is
 * built. Run before the build they say so with a hint; after it they run the real CLI.
 */
import { describe, expect, it } from "@jest/globals";
import { execa } from "execa";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const BINS = [
  { pkg: "host", name: "qntx", builtFile: "dist/cli.js" },
  { pkg: "sdk", name: "qntx-ts-runner", builtFile: "dist/qntx-runner/cli.js" },
];

/** The path of bin `name` in package `pkg`'s package.json, relative to the package. */
function binPath(pkg: string, name: string): string {
  return (JSON.parse(readFileSync(join(REPO, pkg, "package.json"), "utf8")) as { bin: Record<string, string> }).bin[name]!;
}

/** Copies bin `name` of `pkg` to the same place under `dir` (a package folder with no dist/); returns the copy. */
function copyBin(pkg: string, name: string, dir: string): string {
  const copy = join(dir, binPath(pkg, name));
  mkdirSync(dirname(copy), { recursive: true });
  copyFileSync(join(REPO, pkg, binPath(pkg, name)), copy);
  return copy;
}

describe("package bins", () => {
  it.each(BINS)("$name is an executable file of the source tree, not of dist/", ({ pkg, name }) => {
    const file = join(REPO, pkg, binPath(pkg, name));
    expect(binPath(pkg, name)).not.toMatch(/dist\//);
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o111).not.toBe(0);
  });

  it.each(BINS)("$name before the build: exit 1 and a hint to build", async ({ pkg, name }) => {
    // The same bin file in a package folder that has no dist/ yet.
    const dir = mkdtempSync(join(tmpdir(), "qntx-bin-"));
    try {
      const copy = copyBin(pkg, name, dir);
      const run = await execa(process.execPath, [copy, "--help"], { reject: false });
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain(`${name}: error:`);
      expect(run.stderr).toContain("not built yet");
      expect(run.stderr).toContain("hint: run `pnpm build`");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("qntx after the build runs the CLI", async () => {
    const run = await execa(process.execPath, [join(REPO, "host/bin/qntx.js"), "--version"], { reject: false });
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO, "host/package.json"), "utf8")).version);
  });

  it("qntx-ts-runner after the build runs the runner (its own usage error for a missing flag)", async () => {
    const run = await execa(process.execPath, [join(REPO, "sdk/bin/qntx-ts-runner.js")], { reject: false });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("qntx-ts-runner: error: --plugin-path is required");
  });

  it.each(BINS)("$name reports a built file that fails to load as it is, not as a missing build", async ({ pkg, name, builtFile }) => {
    const dir = mkdtempSync(join(tmpdir(), "qntx-bin-"));
    try {
      const copy = copyBin(pkg, name, dir);
      // A built file whose own import is missing: the same error code, another module.
      mkdirSync(dirname(join(dir, builtFile)), { recursive: true });
      writeFileSync(join(dir, builtFile), 'import "./no-such-module.js";\n');
      const run = await execa(process.execPath, [copy], { reject: false });
      expect(run.exitCode).not.toBe(0);
      expect(run.stderr).toContain("no-such-module.js");
      expect(run.stderr).not.toContain("not built yet");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
