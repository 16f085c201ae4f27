/**
 * The host config's checker: @qntx/protocol's ConfigChecker (the one checker of host, plugin
 * and SDK config; see its config-check.ts), plus "did you mean" for unknown keys and the
 * `host:port` rule of the host's addresses.
 */
import { ConfigChecker, type RawTable } from "@qntx/protocol";
import { closest } from "./suggest.js";

export { formatPath, isTable, MAX_DURATION_MS, typeName, type RawTable } from "@qntx/protocol";

/** Collects issues, each located at its key's line (or the nearest enclosing table's). */
export class Checker extends ConfigChecker {
  /** Reports every key of `table` that is not in `known`, with a suggestion when one is close. */
  unknownKeys(path: readonly string[], table: RawTable, known: readonly string[], where: string): void {
    for (const key of Object.keys(table)) {
      if (known.includes(key)) continue;
      const guess = closest(key, known);
      this.report(
        [...path, key],
        `is not a known key${guess ? ` (did you mean "${guess}"?)` : ""}`,
        `${where} accepts: ${known.join(", ")}`,
      );
    }
  }
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

/**
 * Checks a `host:port` address (no scheme). The host is a name, an IPv4 address or a
 * bracketed IPv6 address; the port must be 1–65535, or 0–65535 when `allowPortZero`.
 * Returns undefined when it is fine, else the problem.
 */
export function addressProblem(value: string, allowPortZero: boolean): { problem: string; hint?: string } | undefined {
  const example = allowPortZero ? "127.0.0.1:8770" : "127.0.0.1:9000";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    return { problem: `must be host:port without a scheme (got ${JSON.stringify(value)})`, hint: `write it like "${example}"` };
  }
  const match = HOST_PORT.exec(value);
  if (!match) {
    const hint = /^\d+$/.test(value) ? `add the host: "127.0.0.1:${value}"` : `write it like "${example}"`;
    return { problem: `must look like host:port (got ${JSON.stringify(value)})`, hint };
  }
  const port = Number(match[2]);
  const min = allowPortZero ? 0 : 1;
  if (port < min || port > 65535) {
    return { problem: `has port ${port}; the port must be from ${min} to 65535` };
  }
  return undefined;
}
