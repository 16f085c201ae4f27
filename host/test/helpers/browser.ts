/**
 * Tests that drive a real browser: Debian's chromium through playwright-core (no browser
 * download, ever). One place decides whether they run, by the rule of toolchain.ts: skipped
 * with one line per file when chromium is missing, a failure under CI=true.
 */
import { accessSync, constants } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { toolchainGate, type ToolchainGate } from "./toolchain.js";

/** Debian's chromium (package `chromium`). */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether chromium can be run: a file left behind by a removed (or hidden) package cannot. */
function runnable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const gate = toolchainGate("browser", () => ({
  missing: runnable(CHROMIUM) ? "" : `${CHROMIUM} not found or not executable`,
  install: "apt-get install -y chromium",
}));

/** `describe` for a suite that needs chromium. */
export const describeWithBrowser: ToolchainGate["describe"] = gate.describe;

/** A headless chromium with a fresh profile of its own, and how to end it. */
export interface TestBrowser {
  readonly browser: Browser;
  close(): Promise<void>;
}

/**
 * Starts chromium headless, offline-minded (no background networking, component updates,
 * sync or QUIC), in a temp profile; `close` ends it.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  // playwright gives every launch a fresh temp profile (--user-data-dir) of its own and
  // removes it at close; it refuses the flag given by hand.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
    ],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}
