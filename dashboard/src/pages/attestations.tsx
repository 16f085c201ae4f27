/**
 * Attestations: the same query as `qntx ax` (OR within a field, AND across fields; several
 * values of a field separated by commas), newest first; "watch" adds new matches as they are
 * written (`/api/attestations/watch` with the same filter).
 */
import { useState } from "preact/hooks";
import { describeError, getJson } from "../api.js";
import { clock } from "../format.js";
import { useEventStream } from "../live.js";
import { LiveDot } from "./plugins.js";

interface Attestation {
  id: string;
  subjects: string[];
  predicates: string[];
  contexts: string[];
  actors: string[];
  timestamp: number;
  source: string;
  attributes: Record<string, unknown>;
}

const FIELDS = ["subject", "predicate", "context", "actor"] as const;

export function AttestationsPage() {
  const [form, setForm] = useState<Record<(typeof FIELDS)[number], string>>({ subject: "", predicate: "", context: "", actor: "" });
  const [query, setQuery] = useState<string | undefined>();
  const [watching, setWatching] = useState(false);
  const [found, setFound] = useState<Attestation[]>([]);
  const [message, setMessage] = useState("");
  const search = async (event?: Event) => {
    event?.preventDefault();
    const params = new URLSearchParams();
    for (const field of FIELDS) if (form[field].trim()) params.set(field, form[field].trim());
    params.set("limit", "200");
    setMessage("");
    try {
      setFound((await getJson<{ attestations: Attestation[] }>(`/api/attestations?${params}`)).attestations);
      setQuery(params.toString());
    } catch (error) {
      setMessage(describeError(error));
    }
  };
  const live = useEventStream(watching && query !== undefined ? `/api/attestations/watch?${query}` : undefined, {
    attestation: (a: Attestation) => setFound((old) => [a, ...old.filter((o) => o.id !== a.id)]),
  });
  return (
    <section>
      <h1>Attestations {watching && <LiveDot live={live} />}</h1>
      <form class="filters" onSubmit={search} data-testid="ax">
        {FIELDS.map((field) => (
          <label>{field} <input value={form[field]} placeholder="a, b (any of)" onInput={(e) => setForm({ ...form, [field]: e.currentTarget.value })} /></label>
        ))}
        <button type="submit">Search</button>
        <label class="check"><input type="checkbox" checked={watching} onChange={(e) => { setWatching(e.currentTarget.checked); if (query === undefined) void search(); }} /> watch</label>
      </form>
      {message && <p class="error" role="alert">{message}</p>}
      <div class="table-wrap">
        <table data-testid="attestations">
          <thead><tr><th>Subjects</th><th>Predicates</th><th>Contexts</th><th>Actors</th><th>Time</th><th>Source</th></tr></thead>
          <tbody>
            {found.map((a) => (
              <tr data-attestation={a.id} title={JSON.stringify(a.attributes)}>
                <td>{a.subjects.join(", ")}</td><td>{a.predicates.join(", ")}</td><td>{a.contexts.join(", ")}</td>
                <td>{a.actors.join(", ")}</td><td>{clock(a.timestamp)}</td><td>{a.source}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
