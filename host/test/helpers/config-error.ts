/** Config tests: the ConfigError a load throws. */
import { expect } from "@jest/globals";
import { ConfigError } from "../../src/config/index.js";

/** Runs `load` and returns the ConfigError it throws; fails the test when it throws none (or another error). */
export function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}
