/**
 * The record of spawned plugin processes in the data dir (`plugins-<port>.pid`), so that a host
 * that was killed (SIGKILL, OOM, power) leaves nothing running for long: its watchdog
 * (watchdog.ts), or else the next host, reads the records of dead hosts and stops their
 * plugins' process groups — but only processes that are still ours, never a reused pid or
 * process group (see {@link sweepPidFile}).
 * Identity needs the `procfs` process table (Linux, process-table.ts); with the `signals` one
 * (macOS) the records are kept and a live host's file is left alone, but no recorded process can
 * be proven ours, so the sweep kills nothing (it reports them as unverified).
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
import { signalGroup, terminateGroup } from "./os-process.js";
import { processTable, type ProcessTable } from "./process-table.js";

/** One spawned plugin process. */
export interface PluginProcessRecord {
  readonly name: string;
  readonly pid: number;
  /**
   * Its process group (the plugin leads its own, so normally its pid): the sweep stops the
   * whole group, also when the plugin itself has exited and only its children are left.
   * Absent in files of older hosts (then the pid is taken).
   */
  readonly pgid?: number;
  /** Kernel start time of the process (clock ticks since boot), for reused-pid detection. */
  readonly startTime: string | undefined;
  readonly cmdline: string | undefined;
}

/** The file's content. */
interface PidFileContent {
  readonly host: {
    readonly pid: number;
    readonly startTime: string | undefined;
    /** The boot the start times count from (absent in files of older hosts). */
    readonly bootId?: string;
  };
  readonly plugins: readonly PluginProcessRecord[];
}

/** The environment entry the host gives every plugin it spawns (see launch.ts), which children inherit. */
export function hostPidEntry(hostPid: number): string {
  return `QNTX_HOST_PID=${hostPid}`;
}

/** Keeps this host's pid file up to date. */
export class PidFile {
  private readonly plugins = new Map<string, PluginProcessRecord>();
  private readonly host: PidFileContent["host"];
  private readonly tempPath: string;
  private dirty = false;
  private closed = false;
  /** The write under way (at most one), until the file has every change made before it ended. */
  private writing: Promise<void> | undefined;
  private writeCount = 0;

  /** @param onError told when a write fails (the next change tries again). */
  constructor(readonly path: string, private readonly onError: (error: unknown) => void = () => undefined, private readonly table: ProcessTable = processTable) {
    this.tempPath = `${path}.${process.pid}.tmp`;
    this.host = { pid: process.pid, startTime: table.identity(process.pid)?.startTime, bootId: table.bootId() };
  }

  /** Records a plugin process (call once it runs its own program, after the port line). */
  add(name: string, pid: number): void {
    const identity = this.table.identity(pid);
    this.plugins.set(name, { name, pid, pgid: this.table.stat(pid)?.pgid ?? pid, startTime: identity?.startTime, cmdline: identity?.cmdline });
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
  /** Records whose pid — or, the plugin being gone, whose process group — now belongs to others (left alone). */
  readonly reused: PluginProcessRecord[];
  /** Records whose group still has members that cannot be checked (the `signals` process table): left alone. */
  readonly unverified: PluginProcessRecord[];
}

function emptyResult(): SweepResult {
  return { killed: [], reused: [], unverified: [] };
}

/**
 * Stops the plugin processes recorded by hosts that are no longer running, and removes their
 * pid files. Files of a live host (another instance on another port) are left alone.
 */
export async function sweepOrphans(dataDir: string, graceMs = 1000, table: ProcessTable = processTable): Promise<SweepResult> {
  const result = emptyResult();
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch {
    return result;
  }
  // A host killed in the middle of a write leaves its temp file (named after its pid).
  for (const name of names) {
    const temp = /^plugins-.+\.pid\.(\d+)\.tmp$/.exec(name);
    if (temp && !table.alive(Number(temp[1]))) rmSync(join(dataDir, name), { force: true });
  }
  for (const file of names.filter((f) => /^plugins-.+\.pid$/.test(f))) await sweepPidFile(join(dataDir, file), graceMs, result, table);
  return result;
}

/**
 * Sweeps one pid file: when the host that wrote it is gone, stops (concurrently: SIGTERM, then
 * SIGKILL after `graceMs`) what is left of each recorded plugin's process group that is still
 * ours, and removes the file. The file of a live host is left as it is. Adds to `result`.
 */
export async function sweepPidFile(path: string, graceMs = 1000, result: SweepResult = emptyResult(), table: ProcessTable = processTable): Promise<SweepResult> {
  let content: PidFileContent;
  try {
    content = JSON.parse(readFileSync(path, "utf8")) as PidFileContent;
  } catch (error) {
    // Unreadable content is useless; a missing file (a clean stop removed it) is nothing to do.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") rmSync(path, { force: true });
    return result;
  }
  if (hostRuns(content.host, table)) return result;
  // Start times count from boot: after a reboot nothing recorded can still run, and a number
  // that happens to match would belong to some other process.
  const boot = table.bootId();
  const sameBoot = content.host.bootId === undefined || boot === undefined || content.host.bootId === boot;
  const stops: Array<Promise<void>> = [];
  for (const record of sameBoot ? content.plugins : []) {
    const verdict = groupVerdict(record, content.host, table);
    if (verdict === "reused") result.reused.push(record);
    if (verdict === "unverified") result.unverified.push(record);
    if (verdict !== "ours") continue;
    result.killed.push(record);
    stops.push(terminateGroup(record.pgid ?? record.pid, graceMs));
  }
  await Promise.all(stops);
  rmSync(path, { force: true });
  return result;
}

/**
 * Whether what is left of a recorded plugin's process group is still ours to stop ("ours"),
 * belongs to others now ("reused"), or is gone.
 *
 * The plugin itself still running is recognised by its start time and command line, as
 * always: then its group is the recorded one (the plugin leads it; a session leader cannot
 * leave its group). A different process at its pid means the group is gone too: the kernel
 * does not hand out a pid that is still a process-group or session id, so pid G reused means
 * group G ended first.
 *
 * The plugin gone but members of group G left (children it started, which outlive it) is the
 * hard case: G may be the group we recorded, or a new one someone made after ours ended and
 * the pid numbers wrapped round to G. We stop it only when a member proves it is ours:
 * - it is in session G as well (the host starts each plugin in a new session: session id =
 *   group id = the plugin's pid; a session cannot be joined, only created);
 * - it started no earlier than the recorded plugin (every process of our session was started
 *   from within it, so after its leader);
 * - it carries the dead host's `QNTX_HOST_PID=<pid>` in the environment it was started with
 *   (the host gives it to every plugin, and children inherit it unless their parent replaces
 *   the environment). A session G that someone else created after ours ended comes from a
 *   process outside our tree, and carries no such entry — unless the host's own pid was
 *   reused too, by a process that started it: so a member started after whatever now runs at
 *   the host's pid does not count.
 * One such member is enough for the group: all members of a group share its session, and the
 * session descends from that member's ancestors. Members that replaced their environment,
 * with no member left that kept it, are left alone (and reported as not ours): never killing
 * someone else's process weighs more than a leftover `sleep`.
 */
function groupVerdict(record: PluginProcessRecord, host: PidFileContent["host"], table: ProcessTable): "ours" | "reused" | "gone" | "unverified" {
  const pgid = record.pgid ?? record.pid;
  const now = table.identity(record.pid);
  if (now && now.startTime === record.startTime && now.cmdline === record.cmdline) return "ours";
  if (now && pgid === record.pid) return "reused";
  // Nothing to compare (recorded or read without /proc): never guess; a group that answers signals is left alone.
  const members = record.startTime === undefined ? undefined : table.groupMembers(pgid);
  if (members === undefined) return now ? "reused" : table.alive(record.pid) || signalGroup(pgid, 0) ? "unverified" : "gone";
  if (members.length === 0) return "gone";
  const since = Number(record.startTime);
  const atHostPid = table.stat(host.pid);
  // The dead host itself may still be a zombie there; only another process counts.
  const before = atHostPid && atHostPid.startTime !== host.startTime ? Number(atHostPid.startTime) : Infinity;
  const marker = hostPidEntry(host.pid);
  const proven = members.some((m) => m.sid === pgid && Number(m.startTime) >= since && Number(m.startTime) < before && table.environmentHas(m.pid, marker));
  return proven ? "ours" : "reused";
}

/**
 * Whether the host that wrote a pid file still runs (its own file excepted). By start time
 * where it was recorded and can be read; a host recorded without one (the `signals` table)
 * runs while its pid answers signal 0 — a reused pid then keeps the file, which kills nothing.
 */
function hostRuns(host: PidFileContent["host"], table: ProcessTable): boolean {
  if (host.pid === process.pid) return false;
  const now = table.identity(host.pid);
  if (now) return now.startTime === host.startTime;
  return (host.startTime === undefined || table.kind === "signals") && table.alive(host.pid);
}

