/** Temporary directories for tests: one fresh directory per test, removed afterwards. */
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const created = new Set<string>();

/**
 * Creates a fresh directory under the OS temp dir and returns its real absolute path
 * (on macOS `/tmp` is a symlink; the real path keeps path comparisons simple).
 */
export function makeTempDir(prefix = "qntx-test-"): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  created.add(dir);
  return dir;
}

/** Removes one directory made by {@link makeTempDir}. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  created.delete(dir);
}

/** Removes every directory made by {@link makeTempDir} in this test file (call from afterEach/afterAll). */
export function cleanupTempDirs(): void {
  for (const dir of [...created]) removeTempDir(dir);
}
