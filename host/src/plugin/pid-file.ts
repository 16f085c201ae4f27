/**
 * The record of spawned plugin processes in the data dir (`plugins-<port>.pid`), so that a host
 * that was killed (SIGKILL, OOM, power) leaves nothing running for long: the next host reads
 * the records of dead hosts and stops their plugins' process groups — but only processes that
 * are still the same process (same start time and command line), never a reused pid.
 * Linux only (it reads /proc); elsewhere the records are kept but nothing is checked.
 */
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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

  constructor(readonly path: string) {}

  /** Records a plugin process (call once it runs its own program, after the port line). */
  add(name: string, pid: number): void {
    const identity = processIdentity(pid);
    this.plugins.set(name, { name, pid, startTime: identity?.startTime, cmdline: identity?.cmdline });
    this.write();
  }

  /** Forgets a plugin process (it exited or was stopped). */
  remove(name: string): void {
    if (this.plugins.delete(name)) this.write();
  }

  /** Deletes the file (clean shutdown). */
  delete(): void {
    rmSync(this.path, { force: true });
  }

  private write(): void {
    const content: PidFileContent = { host: this.host, plugins: [...this.plugins.values()] };
    writeFileSync(this.path, `${JSON.stringify(content, null, 2)}\n`);
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
  let files: string[];
  try {
    files = readdirSync(dataDir).filter((f) => /^plugins-.+\.pid$/.test(f));
  } catch {
    return result;
  }
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
