/**
 * Plugins: every plugin's state, health, version, kind, pid, address, roles, restarts,
 * uptime and routes, live over `/api/host/events` (its `hello` gives the list, `plugin:*`
 * events update a row as it changes); start / stop / restart / pause / resume for a session.
 */
import { useState } from "preact/hooks";
import { describeError, postJson, type SessionInfo } from "../api.js";
import { StateBadge, since } from "../format.js";
import { useEventStream } from "../live.js";

/** A plugin as `/api/plugins` and the host's events show it. */
export interface Plugin {
  name: string;
  kind: string;
  state: string;
  version: string | null;
  health: { answered: boolean; healthy: boolean; message?: string } | null;
  pid: number | null;
  address: string | null;
  routes: Array<{ method: string; path: string }>;
  roles: string[];
  restarts: number;
  startedAt: number | null;
  error: string | null;
  hint: string | null;
}

const ACTIONS: Record<string, string[]> = {
  running: ["pause", "restart", "stop"],
  paused: ["resume", "restart", "stop"],
  stopped: ["start", "restart"],
  failed: ["start", "restart", "stop"],
  restarting: ["stop"],
  loading: [],
};

export function PluginsPage({ session }: { session: SessionInfo }) {
  const [plugins, setPlugins] = useState<Map<string, Plugin>>(new Map());
  const [open, setOpen] = useState<string | undefined>();
  const [message, setMessage] = useState("");
  const update = (plugin: Plugin | null) => plugin && setPlugins((old) => new Map(old).set(plugin.name, plugin));
  const live = useEventStream("/api/host/events", {
    hello: (data: { plugins: Plugin[] }) => setPlugins(new Map(data.plugins.map((p) => [p.name, p]))),
    "plugin:added": (e) => update(e.plugin),
    "plugin:state": (e) => update(e.plugin),
    "plugin:initialized": (e) => update(e.plugin),
    "plugin:health": (e) => update(e.plugin),
    "plugin:removed": (e) => setPlugins((old) => {
      const next = new Map(old);
      next.delete(e.name);
      return next;
    }),
  });
  const act = async (name: string, action: string) => {
    setMessage("");
    try {
      const answer = await postJson<{ plugin: Plugin }>(`/api/plugins/${encodeURIComponent(name)}/${action}`);
      update(answer.plugin);
    } catch (error) {
      setMessage(`${action} ${name}: ${describeError(error)}`);
    }
  };
  const rows = [...plugins.values()].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <section>
      <h1>Plugins <LiveDot live={live} /></h1>
      {message && <p class="error" role="alert">{message}</p>}
      <div class="table-wrap">
        <table data-testid="plugins">
          <thead>
            <tr><th>Name</th><th>State</th><th>Health</th><th>Version</th><th>Kind</th><th>PID</th><th>Address</th><th>Roles</th><th>Restarts</th><th>Uptime</th><th>Routes</th><th /></tr>
          </thead>
          <tbody>
            {rows.map((p) => (
              <>
                <tr data-plugin={p.name}>
                  <td><a href={`#/plugins`} onClick={(e) => { e.preventDefault(); setOpen(open === p.name ? undefined : p.name); }}>{p.name}</a></td>
                  <td><StateBadge state={p.state} /></td>
                  <td>{health(p)}</td>
                  <td>{p.version ?? "-"}</td>
                  <td>{p.kind}</td>
                  <td>{p.pid ?? "-"}</td>
                  <td class="mono">{p.address ?? "-"}</td>
                  <td>{p.roles.join(", ") || "-"}</td>
                  <td data-testid="restarts">{p.restarts}</td>
                  <td>{p.state === "running" ? since(p.startedAt) : "-"}</td>
                  <td>{p.routes.length}</td>
                  <td class="actions">
                    {session.admin && (ACTIONS[p.state] ?? []).map((a) => <button type="button" data-action={a} onClick={() => act(p.name, a)}>{a}</button>)}
                    <a href={`#/logs?plugin=${encodeURIComponent(p.name)}`}>logs</a>
                  </td>
                </tr>
                {open === p.name && (
                  <tr class="detail"><td colSpan={12}>
                    {p.error && <p class="error">{p.error}{p.hint ? ` — ${p.hint}` : ""}</p>}
                    <ul class="routes">{p.routes.map((r) => <li class="mono">{r.method} /api/{p.name}{r.path === "/" ? "" : r.path}</li>)}</ul>
                  </td></tr>
                )}
              </>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function health(p: Plugin): string {
  if (!p.health) return "-";
  if (!p.health.answered) return "no answer";
  return p.health.healthy ? "healthy" : `unhealthy${p.health.message ? `: ${p.health.message}` : ""}`;
}

/** A dot that says whether the page is live (its event stream connected). */
export function LiveDot({ live }: { live: boolean }) {
  return <span class={`live ${live ? "on" : "off"}`} title={live ? "live" : "reconnecting"} data-live={live ? "on" : "off"}>{live ? "live" : "offline"}</span>;
}
