/**
 * Counts the fake host's RPCs and can slow them down: a test may check that a plugin never
 * has more than one `UpdateJob` in flight, or make `ListJobs` slow to test a plugin's deadline.
 */
import type { sendUnaryData, ServerUnaryCall } from "@grpc/grpc-js";

/** Method names of the fake host's RPCs, as in the proto (`GetAttestations`, `UpdateJob`…). */
export type HostMethod =
  | "CreateAttestation"
  | "AttestationExists"
  | "GenerateAndCreateAttestation"
  | "BatchGenerateAndCreateAttestations"
  | "GetAttestations"
  | "GetAttestationsStream"
  | "WatchAttestations"
  | "Enqueue"
  | "GetJob"
  | "UpdateJob"
  | "ListJobs";

/** Per-method counters and delays. */
export class CallMeter {
  private readonly delays = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();
  private readonly peak = new Map<string, number>();
  private readonly totals = new Map<string, number>();

  /** Delays every later call of `method` by `ms` before it is answered (0 removes the delay). */
  setDelay(method: HostMethod, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`setDelay(${method}): expected a delay >= 0 ms, got ${ms}`);
    if (ms === 0) this.delays.delete(method);
    else this.delays.set(method, ms);
  }

  /** The delay of `method` in ms (0 when none). */
  delayOf(method: HostMethod): number {
    return this.delays.get(method) ?? 0;
  }

  /** How many calls of `method` arrived. */
  count(method: HostMethod): number {
    return this.totals.get(method) ?? 0;
  }

  /** Most calls of `method` seen in flight at once. */
  maxInFlight(method: HostMethod): number {
    return this.peak.get(method) ?? 0;
  }

  /** Counts a call of `method` that streams (no answer to wait for). */
  arrived(method: HostMethod): void {
    this.totals.set(method, this.count(method) + 1);
  }

  /**
   * Wraps a unary implementation: counts the call, waits the method's delay, answers with what
   * `work` returns. `work` never throws here: the services turn failures into body errors.
   */
  unary<Req, Res>(method: HostMethod, work: (call: ServerUnaryCall<Req, Res>) => Res): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
    return (call, callback) => {
      this.arrived(method);
      const now = (this.inFlight.get(method) ?? 0) + 1;
      this.inFlight.set(method, now);
      this.peak.set(method, Math.max(now, this.maxInFlight(method)));
      const delay = this.delayOf(method);
      const answer = (): void => {
        this.inFlight.set(method, (this.inFlight.get(method) ?? 1) - 1);
        let response: Res;
        try {
          response = work(call);
        } catch (err) {
          // A bug in the fake must fail the call visibly, not leave it unanswered.
          callback({ code: 13, details: `fake host: ${err instanceof Error ? err.message : String(err)}` });
          return;
        }
        callback(null, response);
      };
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    };
  }

  /** Zeroes the counters (delays stay; calls still in flight keep counting). */
  reset(): void {
    this.peak.clear();
    this.totals.clear();
  }
}
