/** The schedules (`GET /api/pulse/schedules`), with enable / disable for a session. */
import { useEffect, useState } from "preact/hooks";
import { describeError, getJson, postJson } from "../api.js";
import { clock } from "../format.js";

interface Schedule {
  handler: string;
  intervalSeconds: number;
  enabled: boolean;
  description: string;
  nextRunAt: number;
  lastRunAt: number | null;
}

export function Schedules({ admin }: { admin: boolean }) {
  const [schedules, setSchedules] = useState<Schedule[]>([]);
  const [message, setMessage] = useState("");
  const load = () => getJson<{ schedules: Schedule[] }>("/api/pulse/schedules").then(({ schedules: list }) => setSchedules(list), (e) => setMessage(describeError(e)));
  useEffect(() => void load(), []);
  const toggle = (s: Schedule) => postJson(`/api/pulse/schedules/${s.handler}/${s.enabled ? "disable" : "enable"}`).then(load, (e) => setMessage(describeError(e)));
  return (
    <>
      <h2>Schedules</h2>
      {message && <p class="error">{message}</p>}
      {schedules.length === 0 ? <p class="muted">No plugin has announced a schedule.</p> : (
        <div class="table-wrap">
          <table data-testid="schedules">
            <thead><tr><th>Handler</th><th>Every</th><th>Enabled</th><th>Next run</th><th>Last run</th><th /></tr></thead>
            <tbody>
              {schedules.map((s) => (
                <tr>
                  <td>{s.handler}<div class="muted">{s.description}</div></td>
                  <td>{s.intervalSeconds ? `${s.intervalSeconds} s` : "off"}</td>
                  <td>{s.enabled ? "yes" : "no"}</td>
                  <td>{clock(s.nextRunAt)}</td>
                  <td>{clock(s.lastRunAt)}</td>
                  <td>{admin && <button type="button" onClick={() => toggle(s)}>{s.enabled ? "disable" : "enable"}</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
