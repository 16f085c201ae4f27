/**
 * The host's catalogue of built-in plugins: plugins compiled into the host and run in
 * process. An entry `[plugins.<name>] builtin = "<catalogue name>"` enables one.
 */
import type { DomainPlugin } from "../plugin/domain-plugin.js";
import { createClockPlugin } from "./clock.js";

const CATALOGUE: Record<string, () => DomainPlugin> = {
  clock: createClockPlugin,
};

/** Names of the built-in plugins. */
export const BUILTIN_NAMES: readonly string[] = Object.keys(CATALOGUE);

/** A new instance of built-in plugin `name`, or undefined when there is none. */
export function createBuiltin(name: string): DomainPlugin | undefined {
  return CATALOGUE[name]?.();
}
