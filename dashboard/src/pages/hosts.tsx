/**
 * Hosts: the hosts sharing this host's database (`GET /api/hosts`). A host on its own
 * database (or one whose host does not list hosts) says so, and how to share one.
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError, describeError, getJson } from "../api.js";
import { StateBadge, clock } from "../format.js";

interface HostEntry {
  id: string;
  address: string;
  version: string;
  plugins: string[];
  lastSeen: number | string;
  state: "up" | "gone";
}

export function HostsPage() {
  const [hosts, setHosts] = useState<HostEntry[] | undefined>();
  const [message, setMessage] = useState("");
  useEffect(() => {
    getJson<{ hosts: HostEntry[] }>("/api/hosts").then(
      ({ hosts: list }) => setHosts(list),
      (error) => (error instanceof ApiError && error.status === 404 ? setHosts([]) : setMessage(describeError(error))),
    );
  }, []);
  if (message) return <p class="error">{message}</p>;
  if (!hosts) return null;
  if (hosts.length <= 1) {
    return (
      <section data-testid="alone">
        <h1>Hosts</h1>
        <p>This host runs alone: it has its own database. Several hosts share the attestations and the job queue when they use
          the same PostgreSQL database (<code>[host] database = "postgres://…"</code>); each then appears here. See
          docs/scale-out.md in the repository.</p>
      </section>
    );
  }
  return (
    <section>
      <h1>Hosts</h1>
      <div class="table-wrap">
        <table data-testid="hosts">
          <thead><tr><th>Host</th><th>State</th><th>Address</th><th>Version</th><th>Plugins</th><th>Last seen</th></tr></thead>
          <tbody>
            {hosts.map((h) => (
              <tr><td class="mono">{h.id}</td><td><StateBadge state={h.state === "up" ? "running" : "failed"} /></td><td class="mono">{h.address}</td>
                <td>{h.version}</td><td>{h.plugins.join(", ")}</td><td>{clock(new Date(h.lastSeen).getTime())}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
