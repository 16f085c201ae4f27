#!/usr/bin/env node
// Runs the whole jest suite and prints a plain closing line `N passed, N failed` that CI reads.
// Extra arguments go to jest (for example a test path pattern).
//
// Jest runs without --forceExit: tests close what they open, and jest exits by itself. The
// safety net for the day one does not: when jest has not exited QNTX_TEST_EXIT_GRACE_MS
// (default 30 s) after writing its results, this script names the test files that left
// handles open (reported by scripts/jest-environment.mjs), kills jest and fails the run. A
// hang never passes silently and CI never hangs.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
// A directory of this run's own: runs in parallel (and the hang test's nested run) never share files.
const runDir = mkdtempSync(join(tmpdir(), "qntx-test-run-"));
const resultsFile = join(runDir, "results.json");
const leakDir = join(runDir, "leaks");
const graceMs = Number(process.env.QNTX_TEST_EXIT_GRACE_MS ?? 30_000);

const jest = join(root, "node_modules/jest/bin/jest.js");
const child = spawn(process.execPath, [jest, "--json", "--outputFile", resultsFile, ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
  // Its own process group, so a kill after a hang reaches jest's workers too.
  detached: true,
  env: {
    ...process.env,
    QNTX_TEST_LEAK_DIR: leakDir,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --experimental-vm-modules --no-warnings=ExperimentalWarning`.trim(),
  },
});
// Ctrl-C or a CI cancel stops jest's group too: it is detached, so the terminal's signal misses it.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => killGroup(signal));

/** Files with open handles at their end, as `path: Kind ×n, …` lines. */
function leakReports() {
  if (!existsSync(leakDir)) return [];
  return readdirSync(leakDir).map((name) => {
    const { testPath, leaked } = JSON.parse(readFileSync(join(leakDir, name), "utf8"));
    return `  ${relative(root, testPath)}: ${Object.entries(leaked).map(([kind, n]) => `${kind} ×${n}`).join(", ")}`;
  });
}

function killGroup(signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

// The results file appears once jest has printed its results; from then on it should only exit.
let hung = false;
let graceTimer;
const watcher = watch(runDir, (_event, name) => {
  if (name !== "results.json" || graceTimer || !existsSync(resultsFile)) return;
  graceTimer = setTimeout(() => {
    hung = true;
    const reports = leakReports();
    console.error(`\njest did not exit ${graceMs / 1000} s after its results: something a test opened is still open.`);
    console.error(reports.length > 0 ? `Test files that ended with handles open:\n${reports.join("\n")}` : "No test file reported an open handle (the leak is in a global setup or teardown, or in jest's own process).");
    console.error("Find it with: node scripts/run-tests.mjs <file> --detectOpenHandles (docs/development.md, Finding a leaked handle). Killing jest.");
    killGroup("SIGKILL");
  }, graceMs);
});

const exitCode = await new Promise((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
clearTimeout(graceTimer);
watcher.close();

let passed = 0;
let failed = 0;
if (existsSync(resultsFile)) {
  const results = JSON.parse(readFileSync(resultsFile, "utf8"));
  passed = results.numPassedTests;
  failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
}
if (hung) failed += 1; // the hang is a failure of its own, whatever the tests said
const reports = leakReports();
// Not a failure: a timer may run out by itself soon after, and jest ends its workers. But a
// leak here hangs a run of that file alone (it runs in jest's own process): worth a look.
if (!hung && reports.length > 0) console.error(`Test files that ended with handles open (a timer may have run out later; jest ended its workers):\n${reports.join("\n")}`);
rmSync(runDir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed${hung ? " (jest hung after its results and was killed)" : ""}`);
process.exit(hung ? 1 : exitCode);
