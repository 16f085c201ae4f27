/**
 * Jest settings every workspace package shares: ESM TypeScript through ts-jest (see
 * docs/development.md). Each package's jest.config.js spreads this and adds its displayName.
 */
export default {
  testEnvironment: "node",
  // jest 30's default "soft" globals cleanup can recurse forever on a reassigned global
  // (RangeError in jest-util, jestjs/jest#16044); our tests do not need it.
  testEnvironmentOptions: { globalsCleanup: "off" },
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: { "^.+\\.ts$": ["ts-jest", { useESM: true }] },
  testMatch: ["<rootDir>/test/**/*.test.ts"],
};
