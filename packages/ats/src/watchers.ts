/**
 * In-process notification of new attestations, for `AttestationStore.watch`.
 *
 * The store calls {@link WatchRegistry.notify} after a write has COMMITTED, so a listener
 * never sees a row that a failed batch rolled back, and may itself write to the store.
 */
import type { Attestation, AttestationFilter } from "@qntx/protocol";
import { isExpired } from "./codec.js";
import { AtsError } from "./errors.js";
import { matchesFilter, normalizeFilter, type NormalizedFilter } from "./filter.js";

/** Receives each new attestation that matches a watch's filter. */
export type AttestationListener = (attestation: Attestation) => void;

/** Called when a listener throws; the write already happened and other listeners still run. */
export type WatchErrorHandler = (error: unknown, attestation: Attestation) => void;

interface Watch {
  readonly filter: NormalizedFilter;
  readonly listener: AttestationListener;
  active: boolean;
}

/** The set of active watches of one store instance. */
export class WatchRegistry {
  private readonly watches = new Set<Watch>();
  private readonly onError: WatchErrorHandler;

  /** @param onError where listener exceptions go (they must not fail the write that triggered them) */
  constructor(onError: WatchErrorHandler) {
    this.onError = onError;
  }

  /** Number of active watches (lets writers skip notification work when there are none). */
  get size(): number {
    return this.watches.size;
  }

  /**
   * Registers `listener` for attestations matching `filter`.
   * @returns an idempotent unsubscribe function
   */
  add(filter: NormalizedFilter, listener: AttestationListener): () => void {
    const watch: Watch = { filter, listener, active: true };
    this.watches.add(watch);
    return () => {
      watch.active = false;
      this.watches.delete(watch);
    };
  }

  /**
   * `AttestationStore.watch` for both stores: checks the caller's filter and listener, then
   * {@link add}s them.
   * @throws AtsError INVALID_ARGUMENT on a malformed filter or a listener that is not a function
   */
  watch(filter: AttestationFilter, listener: AttestationListener): () => void {
    if (typeof listener !== "function") throw new AtsError("INVALID_ARGUMENT", "watch listener must be a function");
    return this.add(normalizeFilter(filter), listener);
  }

  /** Delivers committed attestations, in write order, to every matching active watch. */
  notify(attestations: readonly Attestation[]): void {
    if (this.watches.size === 0) return;
    // A snapshot, so listeners may subscribe or unsubscribe while being called; `active` is
    // re-checked so an unsubscribed listener gets nothing more, even within this batch.
    const watches = [...this.watches];
    for (const attestation of attestations) {
      for (const watch of watches) {
        if (!watch.active || !matchesFilter(watch.filter, attestation)) continue;
        try {
          watch.listener(attestation);
        } catch (err) {
          this.onError(err, attestation);
        }
      }
    }
  }

  /**
   * {@link notify} for a store's committed writes: one that has already expired at `now`
   * (unix ms) is news to nobody and is left out.
   */
  deliver(attestations: readonly Attestation[], now: number): void {
    if (this.watches.size === 0) return;
    this.notify(attestations.filter((a) => !isExpired(a, now)));
  }

  /** Drops every watch (store closing). */
  clear(): void {
    for (const watch of this.watches) watch.active = false;
    this.watches.clear();
  }
}
