/** One jest run over every package, so the suite runs in parallel and reports once. */
export default {
  projects: ["<rootDir>/packages/protocol", "<rootDir>/sdk", "<rootDir>/host"],
};
