/**
 * The parent-death watch: a plugin spawned by a host exits when that host dies, even when the
 * host was SIGKILLed and could not stop it. The host passes its pid in `QNTX_HOST_PID`; we
 * poll it (a signal-0 probe is cheap) and also notice being re-parented. Plugins started by
 * hand (no `QNTX_HOST_PID`) are not watched.
 */

/** Default poll period. */
export const PARENT_WATCH_INTERVAL_MS = 500;

/**
 * Calls `onParentGone` once when the host process is gone. Returns a function that stops
 * watching. The timer never keeps the process alive by itself.
 */
export function watchParent(onParentGone: (reason: string) => void, options: { env?: NodeJS.ProcessEnv; intervalMs?: number } = {}): () => void {
  const hostPid = Number((options.env ?? process.env).QNTX_HOST_PID);
  if (!Number.isInteger(hostPid) || hostPid <= 0) return () => undefined;
  const firstParent = process.ppid;
  const timer = setInterval(() => {
    let reason: string | undefined;
    if (!isAlive(hostPid)) reason = `host process ${hostPid} is gone`;
    else if (firstParent === hostPid && process.ppid !== hostPid) reason = `re-parented from host ${hostPid} to ${process.ppid}`;
    if (reason) {
      clearInterval(timer);
      onParentGone(reason);
    }
  }, options.intervalMs ?? PARENT_WATCH_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else — still alive.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
