/**
 * Jest config of this package: the shared preset (jest.preset.js at the root), plus one
 * PostgreSQL server for the run (@qntx/testing-pg) for the conformance suite's PostgreSQL side.
 */
import preset from "../../jest.preset.js";

export default {
  ...preset,
  displayName: "pulse",
  globalSetup: "@qntx/testing-pg/global-setup",
  globalTeardown: "@qntx/testing-pg/global-teardown",
};
