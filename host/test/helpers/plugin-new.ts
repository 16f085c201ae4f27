/**
 * `qntx plugin new` tests' shared pieces: running the real CLI in a folder, and temp folders
 * removed after the test file.
 */
import { afterAll } from "@jest/globals";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI } from "../harness.js";

/** What a CLI run printed, and its exit code. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node host/dist/cli.js plugin new …args` in `cwd`. */
export function pluginNew(args: string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, "plugin", "new", ...args], { cwd, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const tempDirs: string[] = [];

/** A fresh temp folder, removed after the test file (the hook is registered on import). */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "qntx-plugin-new-"));
  tempDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
