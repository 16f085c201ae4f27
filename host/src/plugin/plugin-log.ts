/**
 * Logs one line a plugin printed under the plugin's logger. A JSON line with a `level`
 * field keeps that level (names such as "warn", or pino's numbers such as 40); its other
 * fields become log fields. Any other line is logged at the stream's default level.
 */
import type { Level, Logger } from "pino";

const LEVEL_NAMES = new Set<Level>(["trace", "debug", "info", "warn", "error", "fatal"]);
const PINO_NUMBERS: Record<number, Level> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

/** Logs `line` under `logger`, keeping the level of JSON lines. */
export function logPluginLine(logger: Logger, line: string, fallback: Level): void {
  if (line.length === 0) return;
  if (line.startsWith("{")) {
    const parsed = tryParse(line);
    if (parsed) {
      const level = toLevel(parsed.level) ?? fallback;
      const { level: _level, msg, message, time: _time, ...fields } = parsed;
      logger[level]({ plugin_fields: fields }, String(msg ?? message ?? ""));
      return;
    }
  }
  logger[fallback](line);
}

function tryParse(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function toLevel(value: unknown): Level | undefined {
  if (typeof value === "number") return PINO_NUMBERS[value];
  if (typeof value === "string") {
    const lower = value.toLowerCase();
    if (lower === "warning") return "warn";
    if (LEVEL_NAMES.has(lower as Level)) return lower as Level;
  }
  return undefined;
}
