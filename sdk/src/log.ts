/**
 * A tiny structured logger for plugins.
 *
 * Why not stdout: a plugin's stdout carries the `QNTX_PLUGIN_PORT=` line the host waits for,
 * so every log line goes to stderr. Why JSON: the host keeps the `level` of a JSON line
 * (docs/protocol.md §2), so a warning logged here shows up as a warning in the host's logs.
 */

/** Severity of a log line, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Extra structured fields merged into a log line. */
export type LogFields = Record<string, unknown>;

/** The logger handed to plugins (`ctx.log`) and exported as `log`. */
export interface Logger {
  /** Detail for debugging; dropped unless the level is `debug`. */
  debug(msg: string, fields?: LogFields): void;
  /** Normal operation. */
  info(msg: string, fields?: LogFields): void;
  /** Something odd that the plugin survived. */
  warn(msg: string, fields?: LogFields): void;
  /** A failure. Pass the error as a field (`{ err }`) to keep its stack. */
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line it writes. */
  child(fields: LogFields): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. Default: `QNTX_LOG_LEVEL` from the environment, else `info`. */
  level?: LogLevel;
  /** Fields added to every line. */
  fields?: LogFields;
  /** Where a finished line (without newline) goes. Default: stderr. Tests pass a collector. */
  write?: (line: string) => void;
}

const RESERVED = new Set(["level", "msg", "time"]);

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function isLevel(value: unknown): value is LogLevel {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(RANK, value);
}

/** Errors do not survive JSON.stringify (their fields are not enumerable): keep what matters. */
function serializeValue(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

function defaultWrite(line: string): void {
  process.stderr.write(line + "\n");
}

/**
 * Creates a logger that writes one JSON line per call:
 * `{"level":"info","msg":"…","time":"2024-…Z", …fields}`.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const envLevel = process.env.QNTX_LOG_LEVEL?.toLowerCase();
  const level: LogLevel = options.level ?? (isLevel(envLevel) ? envLevel : "info");
  const threshold = RANK[level];
  const base = options.fields ?? {};
  const write = options.write ?? defaultWrite;

  function emit(lineLevel: LogLevel, msg: string, fields?: LogFields): void {
    if (RANK[lineLevel] < threshold) return;
    const record: Record<string, unknown> = { level: lineLevel, msg, time: new Date().toISOString() };
    // Reserved keys are skipped so a field named "level" cannot change the line's level.
    for (const source of [base, fields]) {
      if (!source) continue;
      for (const key of Object.keys(source)) if (!RESERVED.has(key)) record[key] = source[key];
    }
    let line: string;
    try {
      line = JSON.stringify(record, serializeValue);
    } catch {
      // A circular field must not turn a log call into a crash.
      line = JSON.stringify({ level: lineLevel, msg, time: record.time, fieldsError: "unserializable fields" });
    }
    write(line);
  }

  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (fields) => createLogger({ level, write, fields: { ...base, ...fields } }),
  };
}

/** The default logger: JSON lines on stderr, level from `QNTX_LOG_LEVEL` (default `info`). */
export const log: Logger = createLogger();
