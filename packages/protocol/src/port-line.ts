import { PORT_LINE_PREFIX } from "./constants.js";

/** Formats the line a plugin prints on stdout once it listens on `port`. */
export function formatPortLine(port: number): string {
  return `${PORT_LINE_PREFIX}${port}`;
}

/**
 * Reads the port from one stdout line, or returns undefined when the line is not a port line.
 * Surrounding whitespace is tolerated (some runtimes add `\r`); anything else is not a port line.
 */
export function parsePortLine(line: string): number | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith(PORT_LINE_PREFIX)) return undefined;
  const digits = trimmed.slice(PORT_LINE_PREFIX.length);
  if (!/^\d{1,5}$/.test(digits)) return undefined;
  const port = Number(digits);
  return port > 0 && port < 65536 ? port : undefined;
}
