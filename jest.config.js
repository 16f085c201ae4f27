/** One jest run over every package, so the suite runs in parallel and reports once. */
export default {
  projects: ["<rootDir>/packages/protocol", "<rootDir>/packages/ats", "<rootDir>/packages/pulse", "<rootDir>/sdk", "<rootDir>/host"],
  // A global option: project configs cannot set it. Tests spawn real processes on a 2-core machine.
  testTimeout: 30000,
};
