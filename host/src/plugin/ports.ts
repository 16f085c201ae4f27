/**
 * Picks free loopback ports for spawned plugins, probing upward from the base port
 * (38700 by default, as QNTX does). Ports handed out but not yet bound are remembered, so
 * plugins started concurrently never get the same port.
 */
import { createServer } from "node:net";

/** Hands out distinct free ports starting at `base`. */
export class PortAllocator {
  private readonly reserved = new Set<number>();
  /** Allocations run one at a time (see allocate). */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly base: number, private readonly host = "127.0.0.1") {}

  /**
   * The first port at or above the base that is free now and not reserved. Allocations are
   * serialized: concurrent ones used to probe the same ports together (twenty plugins starting
   * at once made 210 probes instead of 20), and two could both find a port free between one's
   * probe and its reservation.
   */
  allocate(): Promise<number> {
    const next = this.tail.then(() => this.probe());
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async probe(): Promise<number> {
    for (let port = this.base; port < Math.min(this.base + 2000, 65536); port++) {
      if (this.reserved.has(port)) continue;
      if (await canBind(port, this.host)) {
        this.reserved.add(port);
        return port;
      }
    }
    throw new Error(`no free port in ${this.base}..${this.base + 2000} on ${this.host}`);
  }

  /** Returns a port to the pool (the plugin stopped). */
  release(port: number): void {
    this.reserved.delete(port);
  }
}

/** Whether `port` can be bound on `host` right now. */
export function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
