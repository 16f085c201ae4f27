/**
 * Logs the lines a plugin prints under the plugin's logger. A JSON line with a `level`
 * field keeps that level (names such as "warn", or pino's numbers such as 40); its other
 * fields become log fields. Any other line is logged at the stream's default level.
 * A plugin flooding its output must not drown the host's own log, so `PluginLineLogger`
 * passes at most `maxPerSecond` lines a second and then one "suppressed N lines" line per
 * second (every line still reaches the plugin's own log file and ring, see host/src/logs).
 */
import type { Level, Logger } from "pino";

const LEVEL_NAMES = new Set<Level>(["trace", "debug", "info", "warn", "error", "fatal"]);
const PINO_NUMBERS: Record<number, Level> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

/** A line a plugin printed, read once: its level and, for a JSON line, its message and fields. */
export interface ParsedLine {
  readonly line: string;
  readonly level: Level;
  /** Set for JSON object lines. */
  readonly json?: { readonly msg: string; readonly fields: Record<string, unknown> };
}

/** Reads the level (and JSON fields) of `line`; `fallback` is the stream's level. */
export function parsePluginLine(line: string, fallback: Level): ParsedLine {
  if (line.startsWith("{")) {
    const parsed = tryParse(line);
    if (parsed) {
      const { level, msg, message, time: _time, ...fields } = parsed;
      return { line, level: toLevel(level) ?? fallback, json: { msg: String(msg ?? message ?? ""), fields } };
    }
  }
  return { line, level: fallback };
}

/** Logs `line` under `logger`, keeping the level of JSON lines. */
export function logPluginLine(logger: Logger, line: string, fallback: Level): void {
  logParsedLine(logger, parsePluginLine(line, fallback));
}

function logParsedLine(logger: Logger, parsed: ParsedLine): void {
  if (parsed.line.length === 0) return;
  if (parsed.json) logger[parsed.level]({ plugin_fields: parsed.json.fields }, parsed.json.msg);
  else logger[parsed.level](parsed.line);
}

/** Default of `PluginLineLogger`'s rate. */
export const DEFAULT_LINES_PER_SECOND = 100;

/**
 * Logs a plugin's lines under its logger, at most `maxPerSecond` a second; the rest of each
 * second is counted and reported in one warn line when the second is over.
 */
export class PluginLineLogger {
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly logger: Logger, private readonly maxPerSecond = DEFAULT_LINES_PER_SECOND) {}

  /** Logs one parsed line, unless this second's budget is spent. */
  log(parsed: ParsedLine): void {
    const now = Date.now();
    if (now - this.windowStart >= 1000) this.nextWindow(now);
    if (this.inWindow < this.maxPerSecond) {
      this.inWindow++;
      logParsedLine(this.logger, parsed);
      return;
    }
    this.suppressed++;
    if (!this.timer) this.arm(now);
  }

  /** Reports what is still suppressed (call when the plugin's output ends). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.report();
  }

  /** Reports at the end of the current second even when the plugin falls silent. */
  private arm(now: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const at = Date.now();
      if (at - this.windowStart >= 1000) this.nextWindow(at);
      else if (this.suppressed > 0) this.arm(at); // log() already started a new second
    }, Math.max(1, this.windowStart + 1000 - now));
    this.timer.unref();
  }

  private nextWindow(now: number): void {
    this.report();
    this.windowStart = now;
    this.inWindow = 0;
  }

  private report(): void {
    if (this.suppressed === 0) return;
    const count = this.suppressed;
    this.suppressed = 0;
    this.logger.warn({ suppressed: count }, `suppressed ${count} lines of plugin output (over ${this.maxPerSecond} lines/s); \`qntx plugin logs\` and the plugin's log file have them`);
  }
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
