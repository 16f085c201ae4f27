/**
 * What a stopping host waits for before it stops its plugins: the HTTP requests being answered
 * and the WebSocket sessions open at the moment it was told to stop. The gateway reports each
 * one here; the host's close() begins the drain (new requests and upgrades get 503, live
 * streams end), waits for {@link GatewayDrain.idle} up to `shutdown_timeout_ms`, then
 * {@link GatewayDrain.force}s what is left. Plugins stop only after that, so a request in
 * flight is answered by its plugin instead of getting a 502 from a plugin stopped under it.
 */
import type { ServerResponse } from "node:http";

/** Counts the gateway's in-flight work and says when none is left. */
export class GatewayDrain {
  private draining = false;
  private requests = 0;
  private sessions = 0;
  /** Ends each open stream (log follow, job events): they never finish on their own. */
  private readonly streams = new Map<ServerResponse, () => void>();
  /** Called by force(): close what is still open. */
  private readonly forcers: Array<() => void> = [];
  private waiters: Array<() => void> = [];

  /** True once the drain has begun: refuse new work. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Counts `res` as in flight until it closes (answered, or the client went away). */
  trackRequest(res: ServerResponse): void {
    this.requests++;
    res.once("close", () => {
      this.requests--;
      this.streams.delete(res);
      this.settle();
    });
  }

  /**
   * Marks a tracked response as a stream that only ends when its client leaves (server-sent
   * events): it is not waited for, and `end` is called when the drain begins.
   */
  stream(res: ServerResponse, end: () => void): void {
    if (this.draining) {
      end();
      return;
    }
    this.streams.set(res, end);
  }

  /** A WebSocket session opened; returns the function to call when it ends. */
  sessionOpened(): () => void {
    this.sessions++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.sessions--;
      this.settle();
    };
  }

  /** Registers what {@link force} does for a part of the gateway (e.g. close WebSockets). */
  onForce(close: () => void): void {
    this.forcers.push(close);
  }

  /** From now on new work is refused; open streams end at once. */
  begin(): void {
    if (this.draining) return;
    this.draining = true;
    for (const end of [...this.streams.values()]) {
      try {
        end();
      } catch {
        // A stream whose client is already gone has nothing left to end.
      }
    }
    this.streams.clear();
    this.settle();
  }

  /** Resolves once no request (other than streams) and no WebSocket session is open. */
  idle(): Promise<void> {
    if (this.busy() === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** What is still in flight: requests being answered (streams aside) and WebSocket sessions. */
  pending(): { requests: number; sessions: number } {
    return { requests: this.requests - this.streams.size, sessions: this.sessions };
  }

  /** Closes what is still open after the drain's time ran out. */
  force(): void {
    for (const close of this.forcers) close();
  }

  private busy(): number {
    const { requests, sessions } = this.pending();
    return requests + sessions;
  }

  private settle(): void {
    if (this.busy() > 0 || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
