/** Small pieces the pages share: a state badge, durations, JSON. */

const GOOD = new Set(["running", "completed"]);
const BAD = new Set(["failed", "cancelled"]);

/** A coloured badge for a plugin's or a job's state. */
export function StateBadge({ state }: { state: string }) {
  const tone = GOOD.has(state) ? "ok" : BAD.has(state) ? "bad" : "warn";
  return <span class={`badge ${tone}`} data-state={state}>{state}</span>;
}

/** `3d 4h`, `5m 2s`, `12s` since `ms` (epoch), or "-". */
export function since(ms: number | null | undefined, now = Date.now()): string {
  if (!ms) return "-";
  let s = Math.max(0, Math.round((now - ms) / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

/** A time as `HH:MM:SS` today, else the date too. */
export function clock(ms: number | null | undefined): string {
  if (!ms) return "-";
  const date = new Date(ms);
  return date.toDateString() === new Date().toDateString() ? date.toLocaleTimeString() : date.toLocaleString();
}

/** JSON for a `<pre>`. */
export function pretty(value: unknown): string {
  return value === null || value === undefined ? "-" : JSON.stringify(value, null, 2);
}
