/** The logging Pulse needs: pino-compatible (`logger.warn({ jobId }, "message")`). */
export interface PulseLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Source of the current time (unix ms); replaceable in tests. */
export interface Clock {
  now(): number;
}

/** Discards everything. */
export const silentLogger: PulseLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Wall-clock time. */
export const systemClock: Clock = { now: () => Date.now() };
