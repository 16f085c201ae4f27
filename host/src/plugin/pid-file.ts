/**
 * The record of spawned plugin processes in the data dir (`plugins-<port>.pid`), so that a host
 * that was killed (SIGKILL, OOM, power) leaves nothing running for long: the next host reads
 * the records of dead hosts and stops their plugins' process groups — but only processes that
 * are still the same process (same start time and command line), never a reused pid.
 * Linux only (it reads /proc); elsewhere the records are kept but nothing is checked.
 *
 * Writes are coalesced and off the event loop: every change marks the file dirty, and one
 * asynchronous write per event-loop turn (a temp file, then rename over the old one, so a
 * reader or a crash sees either the old or the new content, never half) records them all.
 * Twenty plugins starting at once cost one or two writes instead of twenty synchronous
 * rewrites (each 3–58 ms on ext4, which flushes a truncated-and-rewritten file on close).
 */
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { terminateGroup } from "./process.js";

/** One spawned plugin process. */
export interface PluginProcessRecord {
  readonly name: string;
  readonly pid: number;
  /** Kernel start time of the process (clock ticks since boot), for reused-pid detection. */
  readonly startTime: string | undefined;
  readonly cmdline: string | undefined;
}

/** The file's content. */
interface PidFileContent {
  readonly host: { readonly pid: number; readonly startTime: string | undefined };
  readonly plugins: readonly PluginProcessRecord[];
}

/** Start time and command line of a live process, or undefined when it is gone (or not Linux). */
export function processIdentity(pid: number): { startTime: string; cmdline: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z") return undefined;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return { startTime: fields[19]!, cmdline };
  } catch {
    return undefined;
  }
}

/** Keeps this host's pid file up to date. */
export class PidFile {
  private readonly plugins = new Map<string, PluginProcessRecord>();
  private readonly host = { pid: process.pid, startTime: processIdentity(process.pid)?.startTime };
  private readonly tempPath: string;
  private dirty = false;
  private closed = false;
  /** The write under way (at most one), until the file has every change made before it ended. */
  private writing: Promise<void> | undefined;
  private writeCount = 0;

  /** @param onError told when a write fails (the next change tries again). */
  constructor(readonly path: string, private readonly onError: (error: unknown) => void = () => undefined) {
    this.tempPath = `${path}.${process.pid}.tmp`;
  }

  /** Records a plugin process (call once it runs its own program, after the port line). */
  add(name: string, pid: number): void {
    const identity = processIdentity(pid);
    this.plugins.set(name, { name, pid, startTime: identity?.startTime, cmdline: identity?.cmdline });
    this.changed();
  }

  /** Forgets a plugin process (it exited or was stopped). */
  remove(name: string): void {
    if (this.plugins.delete(name)) this.changed();
  }

  /** How many times the file has been written (diagnostics: a burst of changes makes one write). */
  get writes(): number {
    return this.writeCount;
  }

  /** Resolves once the file on disk holds every change made so far. */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Deletes the file (clean shutdown), after any write under way; later changes are not written. */
  async delete(): Promise<void> {
    this.closed = true;
    await this.flushed();
    await rm(this.path, { force: true });
    await rm(this.tempPath, { force: true });
  }

  private changed(): void {
    this.dirty = true;
    if (this.writing || this.closed) return;
    // The write starts in the next turn, so the changes of this one go out together.
    this.writing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.writeWhileDirty())
      .finally(() => {
        this.writing = undefined;
        // A change that came after the loop's last check but before this point saw `writing`
        // still set and scheduled nothing: write it now.
        if (this.dirty && !this.closed) this.changed();
      });
  }

  private async writeWhileDirty(): Promise<void> {
    while (this.dirty && !this.closed) {
      this.dirty = false;
      const content: PidFileContent = { host: this.host, plugins: [...this.plugins.values()] };
      try {
        await writeFile(this.tempPath, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
        await rename(this.tempPath, this.path);
        this.writeCount++;
      } catch (error) {
        this.onError(error);
      }
    }
  }
}

/** What an orphan sweep did. */
export interface SweepResult {
  readonly killed: PluginProcessRecord[];
  /** Records whose pid now belongs to another process (left alone). */
  readonly reused: PluginProcessRecord[];
}

/**
 * Stops the plugin processes recorded by hosts that are no longer running, and removes their
 * pid files. Files of a live host (another instance on another port) are left alone.
 */
export async function sweepOrphans(dataDir: string, graceMs = 1000): Promise<SweepResult> {
  const result: SweepResult = { killed: [], reused: [] };
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch {
    return result;
  }
  // A host killed in the middle of a write leaves its temp file (named after its pid).
  for (const name of names) {
    const temp = /^plugins-.+\.pid\.(\d+)\.tmp$/.exec(name);
    if (temp && !processIdentity(Number(temp[1]))) rmSync(join(dataDir, name), { force: true });
  }
  const files = names.filter((f) => /^plugins-.+\.pid$/.test(f));
  for (const file of files) {
    const path = join(dataDir, file);
    let content: PidFileContent;
    try {
      content = JSON.parse(readFileSync(path, "utf8")) as PidFileContent;
    } catch {
      rmSync(path, { force: true });
      continue;
    }
    const host = processIdentity(content.host.pid);
    if (host && host.startTime === content.host.startTime && content.host.pid !== process.pid) continue;
    for (const record of content.plugins) {
      const now = processIdentity(record.pid);
      if (!now) continue;
      if (now.startTime !== record.startTime || now.cmdline !== record.cmdline) {
        result.reused.push(record);
        continue;
      }
      // Spawned plugins lead their own process group: the whole group goes.
      await terminateGroup(record.pid, graceMs);
      result.killed.push(record);
    }
    rmSync(path, { force: true });
  }
  return result;
}
