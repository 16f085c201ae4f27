/**
 * The host's logger: pino, pretty-printed when stdout is a terminal (so people read it) and
 * JSON lines otherwise (so machines read it); coloured unless NO_COLOR is set (colour.ts). `QNTX_LOG_LEVEL` sets the level (default info).
 */
import { pino, type Logger } from "pino";
import { colourWanted } from "./colour.js";

/** Creates the root logger. */
export function createLogger(options: { level?: string; pretty?: boolean } = {}): Logger {
  const level = options.level ?? process.env.QNTX_LOG_LEVEL ?? "info";
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  if (pretty) {
    return pino({ level, transport: { target: "pino-pretty", options: { colorize: colourWanted(process.stdout.isTTY), translateTime: "HH:MM:ss.l", ignore: "pid,hostname" } } });
  }
  return pino({ level });
}
