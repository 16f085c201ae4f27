/**
 * What both store implementations do the same way around their SQL: the clock that stamps
 * `created_at`, building a batch with errors that name the failing command, redrawing a
 * clashing generated id, and the default home of watch-listener exceptions.
 */
import type { Attestation, AttestationCommand } from "@qntx/protocol";
import { attestationFromCommand, type GenerateDefaults } from "./codec.js";
import { AtsError } from "./errors.js";
import { generateId } from "./ids.js";
import type { WatchErrorHandler } from "./watchers.js";

/** A generated id clashing with a stored one is redrawn this often (odds ~1e-12 each). */
export const ID_ATTEMPTS = 5;

/** Rows deleted per transaction by a sweep, so it never holds the write lock for long. */
export const SWEEP_CHUNK = 1000;

/** Options both stores accept. */
export interface StoreOptions {
  /** Clock in unix ms (tests). Default `Date.now`. */
  readonly now?: () => number;
  /** Where exceptions thrown by watch listeners go. Default: `console.error`. */
  readonly onWatchError?: WatchErrorHandler;
}

/**
 * Now in ms, never going backwards within one store even if the system clock does. Equal
 * stamps are fine: queries order by (created_at, seq), and seq follows write order.
 */
export class MonotonicClock {
  private last = 0;

  /** @param clock the underlying clock (unix ms) */
  constructor(private readonly clock: () => number = Date.now) {}

  /** The later of the clock and the last value returned. */
  now(): number {
    this.last = Math.max(this.last, this.clock());
    return this.last;
  }

  /** The clock's reading, which may go backwards (expiry checks compare with it). */
  wall(): number {
    return this.clock();
  }
}

/** The watch-error handler of `options`, or one that writes to the console. */
export function watchErrorHandler(options: StoreOptions): WatchErrorHandler {
  return options.onWatchError ?? ((err: unknown, a: Attestation) => console.error(`ats: watch listener failed on ${a.id}:`, err));
}

/**
 * Builds every attestation of a batch before any transaction opens: a bad command fails fast
 * without holding a lock, and the error names its index.
 * @throws AtsError "batch command <i>: …"; INVALID_ARGUMENT when `commands` is not a list
 */
export function buildBatch(commands: readonly AttestationCommand[], defaults: GenerateDefaults, clock: MonotonicClock): Attestation[] {
  if (!Array.isArray(commands)) throw new AtsError("INVALID_ARGUMENT", "commands must be a list");
  return commands.map((command, i) => {
    try {
      return attestationFromCommand(command, defaults, clock.now());
    } catch (err) {
      if (err instanceof AtsError) throw new AtsError(err.code, `batch command ${i}: ${err.message}`, { cause: err });
      throw err;
    }
  });
}

/**
 * The error of a write that failed at attestation `index` of `count`: unchanged for a single
 * write; in a batch it names the failing command, so a plugin can find it among thousands.
 */
export function writeFailure(err: unknown, index: number, count: number): unknown {
  if (count === 1) return err;
  if (err instanceof AtsError) return new AtsError(err.code, `batch command ${index}: ${err.message}`, { cause: err });
  return new Error(`batch command ${index}: storing attestation failed: ${(err as Error).message}`, { cause: err });
}

/** The refusal of a client-chosen id that is taken. */
export function alreadyExists(id: string, cause?: unknown): AtsError {
  return new AtsError("ALREADY_EXISTS", `attestation ${id} already exists`, { cause });
}

/**
 * Draws a new generated id for an attestation whose id clashed; a self-certifying
 * attestation's actor is its id, so it follows.
 */
export function redrawId(attestation: Attestation): void {
  const selfCertified = attestation.actors.length === 1 && attestation.actors[0] === attestation.id;
  attestation.id = generateId(attestation.subjects[0], attestation.predicates[0], attestation.contexts[0]);
  if (selfCertified) attestation.actors = [attestation.id];
}

/** The error every call on a closed store throws. */
export function storeClosed(): Error {
  return new Error("attestation store is closed");
}
