/**
 * Jobs: the queue as a live list (first `GET /api/pulse/jobs`, then every `job` event of
 * `/api/host/events`), filtered by state, handler and plugin; a job's payload, progress, logs,
 * attempts, error and result, with retry and cancel; a form to enqueue one; the schedules.
 */
import { useEffect, useState } from "preact/hooks";
import { describeError, getJson, postJson, type SessionInfo } from "../api.js";
import { StateBadge, clock, pretty } from "../format.js";
import { useEventStream } from "../live.js";
import { LiveDot } from "./plugins.js";
import { Schedules } from "./schedules.js";

/** A job as the API shows it. */
export interface Job {
  id: string;
  handler: string;
  plugin: string;
  status: string;
  attempts: number;
  maxAttempts: number;
  progress: { current: number; total: number };
  payload: unknown;
  result: unknown;
  error: string;
  createdAt: number;
  updatedAt: number;
  logs?: Array<{ timestamp: string; level: string; message: string; attempt: number }>;
}

const STATES = ["", "queued", "running", "paused", "completed", "failed", "cancelled"];
const SHOWN = 200;

export function JobsPage({ session, params }: { session: SessionInfo; params: URLSearchParams }) {
  const [jobs, setJobs] = useState<Map<string, Job>>(new Map());
  const [filter, setFilter] = useState({ status: params.get("status") ?? "", handler: params.get("handler") ?? "", plugin: params.get("plugin") ?? "" });
  const [selected, setSelected] = useState<string | undefined>();
  const [message, setMessage] = useState("");
  const put = (job: Job) => setJobs((old) => new Map(old).set(job.id, { ...old.get(job.id), ...job }));
  useEffect(() => {
    getJson<{ jobs: Job[] }>(`/api/pulse/jobs?limit=${SHOWN}`).then(
      ({ jobs: list }) => setJobs((old) => new Map([...list.map((j) => [j.id, j] as const), ...old])),
      (e) => setMessage(describeError(e)),
    );
  }, []);
  const live = useEventStream("/api/host/events", { job: put });
  const shown = [...jobs.values()]
    .filter((j) => (!filter.status || j.status === filter.status) && j.handler.includes(filter.handler) && (!filter.plugin || j.plugin === filter.plugin))
    .sort((a, b) => b.createdAt - a.createdAt)
    .slice(0, SHOWN);
  const plugins = [...new Set([...jobs.values()].map((j) => j.plugin))].sort();
  return (
    <section>
      <h1>Jobs <LiveDot live={live} /></h1>
      {message && <p class="error" role="alert">{message}</p>}
      {session.admin && <Enqueue onJob={(job) => { put(job); setSelected(job.id); }} />}
      <div class="filters">
        <label>State <select value={filter.status} onChange={(e) => setFilter({ ...filter, status: e.currentTarget.value })}>{STATES.map((s) => <option value={s}>{s || "any"}</option>)}</select></label>
        <label>Plugin <select value={filter.plugin} onChange={(e) => setFilter({ ...filter, plugin: e.currentTarget.value })}><option value="">any</option>{plugins.map((p) => <option value={p}>{p}</option>)}</select></label>
        <label>Handler <input value={filter.handler} placeholder="contains…" onInput={(e) => setFilter({ ...filter, handler: e.currentTarget.value })} /></label>
      </div>
      {selected && jobs.get(selected) && <JobDetail job={jobs.get(selected)!} admin={session.admin} onJob={put} onClose={() => setSelected(undefined)} />}
      <div class="table-wrap">
        <table data-testid="jobs">
          <thead><tr><th>Job</th><th>Handler</th><th>State</th><th>Progress</th><th>Attempts</th><th>Created</th></tr></thead>
          <tbody>
            {shown.map((j) => (
              <tr data-job={j.id} class={j.id === selected ? "selected" : ""} onClick={() => setSelected(j.id)}>
                <td class="mono">{j.id.slice(0, 8)}</td>
                <td>{j.handler}</td>
                <td><StateBadge state={j.status} /></td>
                <td><Progress job={j} /></td>
                <td>{j.attempts}/{j.maxAttempts}</td>
                <td>{clock(j.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Schedules admin={session.admin} />
    </section>
  );
}

/** A progress bar (`current` of `total`). */
function Progress({ job }: { job: Job }) {
  const { current, total } = job.progress ?? { current: 0, total: 0 };
  const percent = total > 0 ? Math.min(100, Math.round((current / total) * 100)) : job.status === "completed" ? 100 : 0;
  return <progress max={100} value={percent} data-current={current} data-total={total} title={`${current} / ${total}`} />;
}

function JobDetail({ job, admin, onJob, onClose }: { job: Job; admin: boolean; onJob: (job: Job) => void; onClose: () => void }) {
  const [message, setMessage] = useState("");
  // The logs are only in the job's own document: fetched again whenever its state changes.
  useEffect(() => {
    getJson<{ job: Job }>(`/api/pulse/jobs/${job.id}`).then(({ job: full }) => onJob(full), (e) => setMessage(describeError(e)));
  }, [job.id, job.status]);
  const act = (action: string) => postJson<{ job: Job }>(`/api/pulse/jobs/${job.id}/${action}`).then(({ job: j }) => onJob(j), (e) => setMessage(describeError(e)));
  return (
    <div class="card" data-testid="job-detail" data-status={job.status}>
      <div class="card-head">
        <strong class="mono">{job.id}</strong> <StateBadge state={job.status} /> <span>{job.handler}</span>
        <span class="spacer" />
        {admin && (job.status === "failed" || job.status === "cancelled") && <button type="button" data-action="retry" onClick={() => act("retry")}>retry</button>}
        {admin && (job.status === "queued" || job.status === "running" || job.status === "paused") && <button type="button" data-action="cancel" onClick={() => act("cancel")}>cancel</button>}
        <button type="button" onClick={onClose}>close</button>
      </div>
      {message && <p class="error">{message}</p>}
      <p>Progress <Progress job={job} /> {job.progress.current}/{job.progress.total} · attempts {job.attempts}/{job.maxAttempts}</p>
      {job.error && <p class="error" data-testid="job-error">{job.error}</p>}
      <div class="columns">
        <div><h3>Payload</h3><pre>{pretty(job.payload)}</pre></div>
        <div><h3>Result</h3><pre data-testid="job-result">{pretty(job.result)}</pre></div>
      </div>
      <h3>Logs</h3>
      <pre class="log">{(job.logs ?? []).map((l) => `${l.timestamp} [${l.attempt}] ${l.level} ${l.message}`).join("\n") || "-"}</pre>
    </div>
  );
}

function Enqueue({ onJob }: { onJob: (job: Job) => void }) {
  const [handlers, setHandlers] = useState<Array<{ qualified: string }>>([]);
  const [handler, setHandler] = useState("");
  const [payload, setPayload] = useState("{}");
  const [message, setMessage] = useState("");
  useEffect(() => {
    getJson<{ handlers: Array<{ qualified: string }> }>("/api/pulse/handlers").then(({ handlers: list }) => setHandlers(list), () => undefined);
  }, []);
  const submit = async (event: Event) => {
    event.preventDefault();
    setMessage("");
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload || "{}");
    } catch (error) {
      return setMessage(`the payload is not JSON: ${(error as Error).message}`);
    }
    try {
      onJob((await postJson<{ job: Job }>("/api/pulse/jobs", { handler, payload: parsed, source: "dashboard" })).job);
    } catch (error) {
      setMessage(describeError(error));
    }
  };
  return (
    <form class="enqueue" onSubmit={submit} data-testid="enqueue">
      <label>Handler <input list="handlers" value={handler} required placeholder="plugin/handler" onInput={(e) => setHandler(e.currentTarget.value)} /></label>
      <datalist id="handlers">{handlers.map((h) => <option value={h.qualified} />)}</datalist>
      <label>Payload <textarea rows={2} value={payload} onInput={(e) => setPayload(e.currentTarget.value)} /></label>
      <button type="submit">Enqueue</button>
      {message && <p class="error" role="alert">{message}</p>}
    </form>
  );
}
