/**
 * Process-group signals: stop every process of a plugin's group, and tell when it is empty.
 * What a process is (state, group, identity) comes from the {@link ProcessTable}
 * (process-table.ts), so this works on any system; without /proc only the wait is coarser.
 *
 * No dependencies beyond process-table.ts on purpose: the watchdog's sweep loads it right after
 * the host died (see process-table.ts).
 */
import { processTable, type GroupMember, type ProcessTable } from "./process-table.js";

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
 * business, do not count), undefined when only "some" can be known (no member list: signal 0
 * says a member exists, zombie or not).
 */
function liveMembers(pgid: number, table: ProcessTable): GroupMember[] | undefined {
  if (!signalGroup(pgid, 0)) return [];
  return table.groupMembers(pgid);
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
export async function terminateGroup(pgid: number, graceMs: number, table: ProcessTable = processTable): Promise<void> {
  if (!signalGroup(pgid, "SIGTERM")) return;
  const giveUp = Date.now() + graceMs;
  // Polls quickly at first (most processes exit at once on SIGTERM), then every 100 ms: a
  // /proc scan costs a few milliseconds.
  let pause = 10;
  for (;;) {
    const members = liveMembers(pgid, table);
    if (members?.length === 0) return;
    if (anyStopped(members) || Date.now() >= giveUp) break;
    await sleep(pause);
    pause = Math.min(100, pause * 2);
  }
  signalGroup(pgid, "SIGKILL");
  // SIGKILL is carried out asynchronously: wait (briefly) until it has been, so a caller that
  // then looks finds the group gone.
  const killGiveUp = Date.now() + 2000;
  while (Date.now() < killGiveUp && (liveMembers(pgid, table)?.length ?? 1) > 0) await sleep(10);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
