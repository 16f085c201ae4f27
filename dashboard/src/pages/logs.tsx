/**
 * Logs: a plugin's output, its ring first and then live (`/api/plugins/<name>/logs?follow=1`),
 * filtered by level and text. The host shows logs only with a session (they may hold secrets).
 */
import { useEffect, useState } from "preact/hooks";
import { getJson, type SessionInfo } from "../api.js";
import { useEventStream } from "../live.js";
import { LiveDot } from "./plugins.js";

interface LogEntry {
  time: number;
  stream: string;
  level: string;
  line: string;
}

const LEVELS = ["", "debug", "info", "warn", "error"];
/** Lines kept in the page; older ones scroll away. */
const KEPT = 2_000;

export function LogsPage({ session, params }: { session: SessionInfo; params: URLSearchParams }) {
  const [plugins, setPlugins] = useState<string[]>([]);
  const plugin = params.get("plugin") ?? plugins[0] ?? "";
  const [lines, setLines] = useState<LogEntry[]>([]);
  const [level, setLevel] = useState("");
  const [text, setText] = useState("");
  useEffect(() => {
    getJson<{ plugins: Array<{ name: string }> }>("/api/plugins").then(({ plugins: list }) => setPlugins(list.map((p) => p.name).sort()), () => undefined);
  }, []);
  // A new plugin: a new stream, starting from its ring.
  useEffect(() => setLines([]), [plugin]);
  const url = session.admin && plugin ? `/api/plugins/${encodeURIComponent(plugin)}/logs?lines=500&follow=1` : undefined;
  const live = useEventStream(url, {
    line: (entry: LogEntry) => setLines((old) => (old.length >= KEPT ? [...old.slice(old.length - KEPT + 1), entry] : [...old, entry])),
  });
  const shown = lines.filter((l) => (!level || l.level === level) && (!text || l.line.toLowerCase().includes(text.toLowerCase())));
  return (
    <section>
      <h1>Logs <LiveDot live={live} /></h1>
      <div class="filters">
        <label>Plugin <select value={plugin} onChange={(e) => (location.hash = `#/logs?plugin=${encodeURIComponent(e.currentTarget.value)}`)}>{plugins.map((p) => <option value={p}>{p}</option>)}</select></label>
        <label>Level <select value={level} onChange={(e) => setLevel(e.currentTarget.value)}>{LEVELS.map((l) => <option value={l}>{l || "any"}</option>)}</select></label>
        <label>Text <input value={text} placeholder="contains…" onInput={(e) => setText(e.currentTarget.value)} /></label>
      </div>
      {!session.admin && <p class="muted">A plugin's output may hold secrets: the host shows it to a signed-in session only.</p>}
      <pre class="log" data-testid="log-lines">{shown.map((l) => <div class={`line ${l.level} ${l.stream}`}>{new Date(l.time).toLocaleTimeString()} {l.stream} {l.line}</div>)}</pre>
    </section>
  );
}
