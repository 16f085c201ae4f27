/**
 * Jest settings every workspace package shares: ESM TypeScript through ts-jest (see
 * docs/development.md). Each package's jest.config.js spreads this and adds its displayName.
 */
import { fileURLToPath } from "node:url";

// Marks every process this jest run starts (workers inherit it, and the plugins and hosts they
// spawn inherit it from them), so a test looking for its own processes never counts those of
// a suite running in another checkout at the same time (host/test/harness.ts processesWithArgs).
process.env.QNTX_TEST_RUN ??= `${fileURLToPath(new URL(".", import.meta.url))}#${process.pid}`;

export default {
  // jest's Node environment, noting the handles a test file leaves open (see the file).
  testEnvironment: fileURLToPath(new URL("./scripts/jest-environment.mjs", import.meta.url)),
  // jest 30's default "soft" globals cleanup can recurse forever on a reassigned global
  // (RangeError in jest-util, jestjs/jest#16044); our tests do not need it.
  testEnvironmentOptions: { globalsCleanup: "off" },
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: { "^.+\\.ts$": ["ts-jest", { useESM: true }] },
  testMatch: ["<rootDir>/test/**/*.test.ts"],
};
