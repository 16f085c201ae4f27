/**
 * The process side of one spawned plugin: its current process, the port it was given, its
 * unix socket, and the pid-file record, each freed exactly once whether the process is
 * stopped by the host or exits by itself. Dialed and built-in plugins have an empty slot.
 */
import { processTable } from "./process-table.js";
import type { PidFile } from "./pid-file.js";
import type { PortAllocator } from "./ports.js";
import type { PluginProcess } from "./process.js";
import type { SpawnTransports } from "./spawn-transport.js";

/**
 * SIGTERM → SIGKILL grace for a plugin that stopped answering Health. Not shutdown_timeout_ms:
 * that is for a plugin finishing its work, which a hung one is not, and a plugin whose event
 * loop is blocked never runs its SIGTERM handler at all. A second still lets one whose signal
 * handling works (a thread of its own) end cleanly.
 */
export const HUNG_GRACE_MS = 1000;

/** What the slots of every plugin share. */
export interface SlotDeps {
  readonly ports: PortAllocator;
  readonly transports: SpawnTransports;
  /** Where spawned processes are recorded for a later host's orphan sweep (once the host has one). */
  readonly pidFile: () => PidFile | undefined;
  readonly shutdownTimeoutMs: number;
}

/** One plugin's process, port and socket; see the file comment. */
export class ProcessSlot {
  process: PluginProcess | undefined;
  port: number | undefined;
  /** The unix socket the plugin was asked to listen on (`transport = "unix"`), removed when it stops. */
  socket: string | undefined;
  /** Set while the host itself stops the process, so its exit is not reported as a crash. */
  stopping = false;

  constructor(private readonly name: string, private readonly deps: SlotDeps) {}

  /** Takes the freshly spawned process of a new run and records it in the pid file. */
  attach(proc: PluginProcess): void {
    this.process = proc;
    this.deps.pidFile()?.add(this.name, proc.pid);
  }

  /**
   * The process exited (its `exit` event): frees what it held.
   * @returns false when `proc` is not this slot's current process (an old run's late exit)
   */
  exited(proc: PluginProcess): boolean {
    if (this.process !== proc) return false;
    this.process = undefined;
    this.deps.pidFile()?.remove(this.name);
    if (this.port !== undefined) this.deps.ports.release(this.port);
    this.deps.transports.removeSocket(this.socket);
    return true;
  }

  /** Whether the process is stopped (SIGSTOP, a debugger): it would answer nothing. */
  get isFrozen(): boolean {
    return this.process !== undefined && processTable.isStopped(this.process.pid);
  }

  /**
   * Gives the process the rest of the shutdown budget to exit, then SIGTERM/SIGKILL. A `hung`
   * one (it left Health calls unanswered) or a stopped one gets no time to exit by itself and
   * only {@link HUNG_GRACE_MS} between SIGTERM and SIGKILL (none when stopped).
   */
  async kill(options: { hung?: boolean } = {}): Promise<void> {
    const proc = this.process;
    if (!proc) {
      // A spawn that failed may still hold its reserved port.
      if (this.port !== undefined) this.deps.ports.release(this.port);
      this.port = undefined;
      return;
    }
    this.stopping = true;
    const budget = this.deps.shutdownTimeoutMs;
    if (options.hung || processTable.isStopped(proc.pid)) {
      await proc.stop(Math.min(HUNG_GRACE_MS, budget));
    } else {
      const graceful = await Promise.race([proc.exited.then(() => true), delay(Math.min(500, budget)).then(() => false)]);
      if (!graceful) await proc.stop(budget);
    }
    await proc.reapGroup(Math.min(1000, budget));
    this.process = undefined;
    if (this.port !== undefined) this.deps.ports.release(this.port);
    this.deps.transports.removeSocket(this.socket);
  }
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
