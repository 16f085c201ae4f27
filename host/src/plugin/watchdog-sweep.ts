/**
 * The program the host's watchdog runs once the host is gone (see watchdog.ts):
 *
 *   node watchdog-sweep.js <pid file> <host pid> <grace ms>
 *
 * It waits until the host process has really ended (the pipe the watchdog waits on closes as
 * the kernel tears the host down, a moment before the host is a zombie), then sweeps the
 * host's pid file like the next host would: what is left of each plugin's process group is
 * stopped, if it is still ours. Loads nothing but pid-file.ts, os-process.ts and process-table.ts, so it acts
 * within tens of milliseconds.
 */
import { sweepPidFile } from "./pid-file.js";
import { processTable } from "./process-table.js";

/** How long the host may take to end after its pipe closed before we give up (it lives on: nothing to do). */
const HOST_EXIT_WAIT_MS = 5000;

const [path, hostPidText, graceText] = process.argv.slice(2);
const hostPid = Number(hostPidText);
if (!path || !Number.isInteger(hostPid) || hostPid <= 0) {
  process.stderr.write("usage: watchdog-sweep.js <pid file> <host pid> [grace ms]\n");
  process.exit(2);
}
const giveUp = Date.now() + HOST_EXIT_WAIT_MS;
while (processTable.alive(hostPid) && Date.now() < giveUp) await new Promise((resolve) => setTimeout(resolve, 5));
// A host still alive (it closed the pipe itself) is skipped by the sweep, which checks again.
await sweepPidFile(path, Number(graceText) || 1000);
