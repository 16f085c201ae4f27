#!/usr/bin/env node
// Runs the whole jest suite and prints a plain closing line `N passed, N failed` that CI reads.
// Extra arguments go to jest (for example a test path pattern).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const resultsFile = join(root, ".test-results.json");
rmSync(resultsFile, { force: true });

const jest = join(root, "node_modules/jest/bin/jest.js");
const run = spawnSync(
  process.execPath,
  [jest, "--forceExit", "--json", "--outputFile", resultsFile, ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --experimental-vm-modules --no-warnings=ExperimentalWarning`.trim() },
  },
);

let passed = 0;
let failed = 0;
if (existsSync(resultsFile)) {
  const results = JSON.parse(readFileSync(resultsFile, "utf8"));
  passed = results.numPassedTests;
  failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(run.status ?? 1);
