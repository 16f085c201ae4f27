/**
 * Plugin dependencies (`depends_on = ["store", "auth@^1.2"]`): cycle detection with the
 * cycle's path, and the version check of a running dependency against the range asked for.
 */
import semver from "semver";
import { QntxError } from "@qntx/protocol";
import type { PluginEntry } from "../config/types.js";

/**
 * For every plugin that is part of a dependency cycle, the cycle's path ("a → b → c → a").
 * Plugins outside any cycle are absent.
 */
export function findCycles(entries: readonly PluginEntry[]): Map<string, string> {
  const deps = new Map(entries.map((e) => [e.name, e.dependsOn.map((d) => d.name)]));
  const cycles = new Map<string, string>();
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (name: string): void => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") {
      const cycle = [...stack.slice(stack.indexOf(name)), name];
      const path = cycle.join(" → ");
      for (const member of cycle) if (!cycles.has(member)) cycles.set(member, path);
      return;
    }
    state.set(name, "visiting");
    stack.push(name);
    for (const dep of deps.get(name) ?? []) if (deps.has(dep)) visit(dep);
    stack.pop();
    state.set(name, "done");
  };
  for (const name of deps.keys()) visit(name);
  return cycles;
}

/**
 * @throws QntxError DEPENDENCY_FAILED naming both versions when `version` does not satisfy `range`.
 */
export function checkDependencyVersion(plugin: string, dependency: string, range: string, version: string | null): void {
  if (range === "") return;
  if (version === null || !semver.valid(version) || !semver.satisfies(version, range, { includePrerelease: true })) {
    throw new QntxError("DEPENDENCY_FAILED", `plugin ${plugin} needs ${dependency}@${range}, but ${dependency} is ${version ?? "of unknown version"}`, {
      hint: `upgrade ${dependency}, or relax the range in [plugins.${plugin}] depends_on`,
    });
  }
}
