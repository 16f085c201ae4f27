/**
 * What the operating system tells about processes, behind one interface with two
 * implementations, chosen once at start ({@link processTable}):
 *
 * - `procfs` (Linux): reads /proc — a process's state, group, session, start time and
 *   command line (with the pid, the start time names one process, so a reused pid is told
 *   apart), the members of a process group, the environment a process started with.
 * - `signals` (macOS and any other system without /proc): `process.kill(pid, 0)` only — alive
 *   or not. Nothing identifies a process beyond its pid, so callers that would kill by a
 *   record (the orphan sweep) leave it alone: they never kill what they cannot identify.
 *
 * `QNTX_PROCESS_TABLE=signals` forces the portable one (tests run it on Linux that way);
 * `procfs` where /proc cannot be read falls back to `signals`.
 *
 * No dependencies beyond node:fs on purpose: the watchdog's sweep (watchdog-sweep.ts) loads it
 * right after the host died, and every millisecond of loading is a millisecond the orphans live.
 */
import { readFileSync, readdirSync } from "node:fs";

/** The fields of /proc/PID/stat that process handling needs. */
export interface ProcessStat {
  /** One letter: R running, S sleeping, D disk wait, T stopped, t traced, Z zombie, … */
  readonly state: string;
  readonly ppid: number;
  /** Process group. */
  readonly pgid: number;
  /** Session. */
  readonly sid: number;
  /** Kernel start time (clock ticks since boot): with the pid, it names one process. */
  readonly startTime: string;
}

/** A live member of a process group. */
export interface GroupMember extends ProcessStat {
  readonly pid: number;
}

/** What names one process: its start time (with the pid) and its command line. */
export interface ProcessIdentity {
  readonly startTime: string;
  readonly cmdline: string;
}

/** The process questions the host asks; see the file comment for the two answers. */
export interface ProcessTable {
  /** "procfs": everything below is known; "signals": only {@link alive}, the rest answers "unknown". */
  readonly kind: "procfs" | "signals";
  /** Whether `pid` runs: not gone and, where that can be known, not a zombie. */
  alive(pid: number): boolean;
  /** The stat fields of `pid` (zombies included), or undefined when gone or unknown. */
  stat(pid: number): ProcessStat | undefined;
  /** Start time and command line of a live process, or undefined when gone, a zombie or unknown. */
  identity(pid: number): ProcessIdentity | undefined;
  /** Whether `pid` is stopped (SIGSTOP, SIGTSTP, a debugger); false when unknown. */
  isStopped(pid: number): boolean;
  /** Live (non-zombie) members of group `pgid`, or undefined when they cannot be listed. */
  groupMembers(pgid: number): GroupMember[] | undefined;
  /** Whether the environment `pid` was started with holds exactly `entry` (`NAME=value`); false when unknown. */
  environmentHas(pid: number, entry: string): boolean;
  /** This boot's id (start times count from boot, so they only compare within one); undefined when unknown. */
  bootId(): string | undefined;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function procStat(pid: number): ProcessStat | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // Fields after the command name (which may contain spaces and parentheses) start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0]!, ppid: Number(fields[1]), pgid: Number(fields[2]), sid: Number(fields[3]), startTime: fields[19]! };
}

/** Linux: everything from /proc. */
export const procfsTable: ProcessTable = {
  kind: "procfs",
  alive: (pid) => {
    const state = procStat(pid)?.state;
    return state !== undefined && state !== "Z";
  },
  stat: procStat,
  identity(pid) {
    const stat = procStat(pid);
    if (!stat || stat.state === "Z") return undefined;
    const cmdline = readText(`/proc/${pid}/cmdline`);
    return cmdline === undefined ? undefined : { startTime: stat.startTime, cmdline };
  },
  isStopped(pid) {
    const state = procStat(pid)?.state;
    return state === "T" || state === "t";
  },
  groupMembers(pgid) {
    let entries: string[];
    try {
      entries = readdirSync("/proc");
    } catch {
      return undefined;
    }
    const members: GroupMember[] = [];
    for (const entry of entries) {
      const c = entry.charCodeAt(0);
      if (c < 0x30 || c > 0x39) continue; // not a pid
      const pid = Number(entry);
      const stat = procStat(pid);
      if (stat && stat.pgid === pgid && stat.state !== "Z") members.push({ pid, ...stat });
    }
    return members;
  },
  environmentHas: (pid, entry) => readText(`/proc/${pid}/environ`)?.split("\0").includes(entry) ?? false,
  bootId: () => readText("/proc/sys/kernel/random/boot_id")?.trim(),
};

/** Anywhere: signal 0 says whether a pid exists (a zombie counts: nothing tells it apart here). */
export const signalsTable: ProcessTable = {
  kind: "signals",
  alive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      // EPERM: it exists, it is only someone else's.
      return (error as NodeJS.ErrnoException).code === "EPERM";
    }
  },
  stat: () => undefined,
  identity: () => undefined,
  isStopped: () => false,
  groupMembers: () => undefined,
  environmentHas: () => false,
  bootId: () => undefined,
};

/** The table for this system: `procfs` where /proc answers, unless `QNTX_PROCESS_TABLE=signals` asks for the portable one. */
export function selectProcessTable(env: NodeJS.ProcessEnv = process.env): ProcessTable {
  if (env.QNTX_PROCESS_TABLE === "signals") return signalsTable;
  return procStat(process.pid) ? procfsTable : signalsTable;
}

/** The table the host uses, chosen once when it starts. */
export const processTable: ProcessTable = selectProcessTable();
