/**
 * What the operating system tells about processes, and process-group signals: the one place
 * that reads /proc (Linux). Elsewhere every reader answers "unknown" (undefined, false or an
 * empty list), so callers stay safe — they never kill what they cannot identify — and a later
 * portability step swaps this file only.
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

/** The stat fields of `pid`, or undefined when it is gone (or this is not Linux). Zombies are included. */
export function processStat(pid: number): ProcessStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // Fields after the command name (which may contain spaces and parentheses) start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0]!, ppid: Number(fields[1]), pgid: Number(fields[2]), sid: Number(fields[3]), startTime: fields[19]! };
}

/** Start time and command line of a live process, or undefined when it is gone, a zombie, or unknown (not Linux). */
export function processIdentity(pid: number): { startTime: string; cmdline: string } | undefined {
  const stat = processStat(pid);
  if (!stat || stat.state === "Z") return undefined;
  try {
    return { startTime: stat.startTime, cmdline: readFileSync(`/proc/${pid}/cmdline`, "utf8") };
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is stopped (SIGSTOP, SIGTSTP, a debugger): such a process acts on no signal
 * but SIGKILL and SIGCONT until it is continued, so SIGTERM would only be left pending.
 */
export function isStopped(pid: number): boolean {
  const state = processStat(pid)?.state;
  return state === "T" || state === "t";
}

/** Live (non-zombie) members of process group `pgid`; empty when there are none or it cannot be known. */
export function groupMembers(pgid: number): GroupMember[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const members: GroupMember[] = [];
  for (const entry of entries) {
    const c = entry.charCodeAt(0);
    if (c < 0x30 || c > 0x39) continue; // not a pid
    const pid = Number(entry);
    const stat = processStat(pid);
    if (stat && stat.pgid === pgid && stat.state !== "Z") members.push({ pid, ...stat });
  }
  return members;
}

/**
 * Whether the environment `pid` was started with holds exactly `entry` (`NAME=value`). False
 * when it does not, or it cannot be read (another user's process, gone, not Linux).
 */
export function environmentHas(pid: number, entry: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(entry);
  } catch {
    return false;
  }
}

/** This boot's id: start times count from boot, so they only compare within one. Undefined when unknown. */
export function bootId(): string | undefined {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Sends `signal` to process group `pgid`; false when no member is left (or none may be signalled). */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Live members of group `pgid`: [] when none is left (zombies, whose reaping is their parent's
 * business, do not count), undefined when only "some" can be known (no /proc: signal 0 says a
 * member exists, zombie or not).
 */
function liveMembers(pgid: number): GroupMember[] | undefined {
  if (!signalGroup(pgid, 0)) return [];
  const members = groupMembers(pgid);
  // Signal 0 reached someone: an empty scan means zombies only, unless /proc is missing.
  return members.length > 0 || procReadable() ? members : undefined;
}

function procReadable(): boolean {
  return processStat(process.pid) !== undefined;
}

function anyStopped(members: readonly GroupMember[] | undefined): boolean {
  return members?.some((m) => m.state === "T" || m.state === "t") ?? false;
}

/**
 * Stops every process of group `pgid`: SIGTERM, then SIGKILL when a member is still there
 * after `graceMs` — or at once when a member is stopped, since a stopped process cannot act
 * on SIGTERM and waiting would only delay the SIGKILL (which the kernel carries out even on a
 * stopped process). Resolves once no live member is left (or at once when none was).
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, "SIGTERM")) return;
  const giveUp = Date.now() + graceMs;
  // Polls quickly at first (most processes exit at once on SIGTERM), then every 100 ms: a
  // /proc scan costs a few milliseconds.
  let pause = 10;
  for (;;) {
    const members = liveMembers(pgid);
    if (members?.length === 0) return;
    if (anyStopped(members) || Date.now() >= giveUp) break;
    await sleep(pause);
    pause = Math.min(100, pause * 2);
  }
  signalGroup(pgid, "SIGKILL");
  // SIGKILL is carried out asynchronously: wait (briefly) until it has been, so a caller that
  // then looks finds the group gone.
  const killGiveUp = Date.now() + 2000;
  while (Date.now() < killGiveUp && (liveMembers(pgid)?.length ?? 1) > 0) await sleep(10);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What a process uses: resident memory and CPU time so far. */
export interface ProcessUsage {
  /** Resident set size in bytes (`VmRSS`). */
  readonly residentBytes: number;
  /** User plus system CPU time in seconds since the process started. */
  readonly cpuSeconds: number;
}

/**
 * Clock ticks per second of /proc/PID/stat's times (USER_HZ): 100 on every Linux the kernel
 * ABI supports; Node offers no sysconf to ask.
 */
const USER_HZ = 100;

/** What `pid` uses now (metrics), or undefined when it is gone or this is not Linux. */
export function processUsage(pid: number): ProcessUsage | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of stat; `fields` starts at field 3.
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / USER_HZ;
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return { residentBytes: rss ? Number(rss[1]) * 1024 : 0, cpuSeconds };
  } catch {
    return undefined;
  }
}
