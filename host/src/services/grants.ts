/**
 * What each plugin may do with the host's services, from the `enqueue`, `attest` and
 * `services` keys of its config table (see PluginGrants). A plugin without them keeps today's
 * permissive default. A refusal names the missing grant; it is logged once per plugin and
 * kind, so a plugin retrying in a loop does not flood the log.
 */
import type { Logger } from "pino";
import type { PluginGrants } from "../config/types.js";

/** The kinds of grant a call can need. */
export type GrantKind = "enqueue" | "attest" | "services";

/** The text of a refusal starts with this, as a gRPC status name would. */
export const PERMISSION_DENIED = "PERMISSION_DENIED";

/** Checks calls against each plugin's grants. */
export class GrantChecker {
  private readonly logged = new Set<string>();

  /** @param grantsOf the grants of a plugin now (undefined = unrestricted); read at every call, so a reload applies at once */
  constructor(private readonly grantsOf: (plugin: string) => PluginGrants | undefined, private readonly logger: Logger) {}

  /**
   * The refusal when `plugin` may not do `value` (a service name, a qualified handler, a
   * predicate) of `kind`, else undefined.
   */
  refusal(plugin: string, kind: GrantKind, value: string): string | undefined {
    const allowed = this.grantsOf(plugin)?.[kind];
    if (allowed === undefined || allowed.some((pattern) => matches(pattern, value))) return undefined;
    const what = kind === "services" ? `call the ${value} service` : kind === "enqueue" ? `enqueue jobs for ${value}` : `attest the predicate "${value}"`;
    const message =
      `${PERMISSION_DENIED}: plugin ${plugin} may not ${what}: its grant is ${kind} = ${JSON.stringify(allowed)}` +
      ` (add it to ${kind} in the plugin's table of the host's config to allow it)`;
    const once = `${plugin}\0${kind}`;
    if (!this.logged.has(once)) {
      this.logged.add(once);
      this.logger.warn({ plugin, grant: kind, refused: value, allowed }, "plugin refused: missing grant (logged once per plugin and kind)");
    }
    return message;
  }

  /** The first refusal among `values`, or undefined when every one is allowed. */
  refusalOfAny(plugin: string, kind: GrantKind, values: readonly string[]): string | undefined {
    for (const value of values) {
      const refused = this.refusal(plugin, kind, value);
      if (refused) return refused;
    }
    return undefined;
  }
}

/** Whether `value` matches `pattern`, where `*` stands for any characters (`/` included). */
export function matches(pattern: string, value: string): boolean {
  if (!pattern.includes("*")) return pattern === value;
  const parts = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(".*")}$`).test(value);
}

/** A readable summary of grants, for `qntx plugin check` and the docs. */
export function describeGrants(grants: PluginGrants | undefined): string {
  const one = (list: readonly string[] | undefined): string => (list === undefined ? "any" : list.length === 0 ? "none" : list.join(", "));
  return `services: ${one(grants?.services)}; enqueue: ${one(grants?.enqueue)}; attest: ${one(grants?.attest)}`;
}
