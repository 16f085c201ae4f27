/**
 * `GET /metrics` after real traffic: real plugin processes (the SDK example `hello`, a
 * WebSocket plugin, a job plugin), HTTP requests through the gateway, a WebSocket session,
 * jobs that complete and fail, an attestation written and queried, a restart. Every series
 * docs/metrics.md lists appears with a sane value, and the docs and the registry list the
 * same names (both directions).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { HELLO_PLUGIN, adminHeaders, http, jobPluginTable, startTestHost, until, type TestHost } from "./harness.js";
import { pulseApi } from "./helpers/pulse-api.js";

const WS_PLUGIN = fileURLToPath(new URL("./fixtures/ws-plugin.mjs", import.meta.url));
const DOCS = fileURLToPath(new URL("../../docs/metrics.md", import.meta.url));

let t: TestHost;
const { waitFor } = pulseApi(() => t);

/** One sample of the exposition: name, labels, value. */
interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Parses Prometheus text format (what prom-client writes: no escapes in our label values). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of match[2]?.matchAll(/([a-zA-Z_]+)="([^"]*)"/g) ?? []) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels` (summed when several match). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found.length ? found.reduce((sum, s) => sum + s.value, 0) : undefined;
}

/** The series names docs/metrics.md lists in its table. */
function documentedSeries(): string[] {
  return [...readFileSync(DOCS, "utf8").matchAll(/^\| `(qntx_[a-z_]+)` \|/gm)].map((m) => m[1]!).sort();
}

async function scrape(): Promise<Sample[]> {
  const res = await http(`${t.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return parse(res.text);
}

beforeAll(async () => {
  t = await startTestHost(
    `[plugins.hello]\nbinary = ${JSON.stringify(HELLO_PLUGIN)}\n[plugins.wsp]\nbinary = ${JSON.stringify(WS_PLUGIN)}\n` + jobPluginTable("jobs"),
    { job_retry_base_ms: 50, job_retry_max_ms: 100 },
  );
  await t.host.ready;
  // HTTP: answers of the plugin (200, 404) and of the host (405 is the plugin's; unknown plugin: not counted).
  for (let i = 0; i < 5; i++) expect((await http(`${t.url}/api/hello/hello?name=m${i}`)).status).toBe(200);
  expect((await http(`${t.url}/api/hello/nope`)).status).toBe(404);
  expect((await http(`${t.url}/api/no-such-plugin/x`)).status).toBe(404);
  // One WebSocket session, opened and closed.
  const ws = new WebSocket(`${t.url.replace("http", "ws")}/ws/wsp`);
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  const closed = new Promise((resolve) => ws.once("close", resolve));
  ws.close(1000);
  await closed;
  // Jobs: one completes, one fails for good after two attempts, one writes an attestation.
  const enqueue = async (body: object): Promise<string> => (await http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify(body) })).json().job.id;
  await waitFor(await enqueue({ handler: "jobs/echo", payload: { a: 1 } }), ["completed"]);
  await waitFor(await enqueue({ handler: "jobs/always-fail", max_attempts: 2 }), ["failed"]);
  await waitFor(await enqueue({ handler: "jobs/write-att", payload: { subject: "metrics-subject" } }), ["completed"]);
  expect((await http(`${t.url}/api/attestations?subject=metrics-subject`)).status).toBe(200);
  // A restart a person asked for.
  expect((await http(`${t.url}/api/plugins/hello/restart`, { method: "POST", headers: adminHeaders(t) })).status).toBe(200);
  await until(() => t.host.registry.get("hello")?.state === "running" || undefined, "hello running again");
}, 90_000);

afterAll(async () => {
  await t?.close();
});

describe("GET /metrics", () => {
  it("lists exactly the series docs/metrics.md documents", () => {
    const registered = t.host.metrics!.registry.getMetricsAsArray().map((m) => m.name).sort();
    expect(documentedSeries()).toEqual(registered);
  });

  it("shows every documented series after real traffic", async () => {
    const samples = await scrape();
    const names = new Set(samples.map((s) => s.name.replace(/_(bucket|sum|count)$/, "")));
    for (const series of documentedSeries()) expect([series, names.has(series)]).toEqual([series, true]);
  });

  it("has sane per-plugin values", async () => {
    const s = await scrape();
    expect(value(s, "qntx_plugin_up", { plugin: "hello" })).toBe(1);
    expect(value(s, "qntx_plugin_state", { plugin: "hello", state: "running" })).toBe(1);
    expect(value(s, "qntx_plugin_state", { plugin: "hello", state: "failed" })).toBe(0);
    expect(value(s, "qntx_plugin_restarts_total", { plugin: "hello" })).toBe(1);
    expect(value(s, "qntx_plugin_http_request_duration_seconds_count", { plugin: "hello", method: "GET", status: "200" })).toBe(5);
    expect(value(s, "qntx_plugin_http_request_duration_seconds_count", { plugin: "hello", status: "404" })).toBe(1);
    expect(s.some((x) => x.labels.plugin === "no-such-plugin")).toBe(false);
    expect(value(s, "qntx_plugin_http_request_duration_seconds_sum", { plugin: "hello" })).toBeGreaterThan(0);
    expect(value(s, "qntx_plugin_websocket_sessions_total", { plugin: "wsp" })).toBe(1);
    expect(value(s, "qntx_plugin_websocket_sessions", { plugin: "wsp" })).toBe(0);
    // 5 answered + the 404 and its retry with the full path (QNTX's rule).
    expect(value(s, "qntx_plugin_grpc_calls_total", { plugin: "hello", method: "HandleHTTP", code: "OK" })).toBe(7);
    expect(value(s, "qntx_plugin_grpc_calls_total", { plugin: "jobs", method: "ExecuteJob" })).toBeGreaterThanOrEqual(4);
    expect(value(s, "qntx_plugin_grpc_call_duration_seconds_count", { plugin: "hello", method: "Metadata" })).toBeGreaterThanOrEqual(2);
    const rss = value(s, "qntx_plugin_resident_memory_bytes", { plugin: "hello" })!;
    expect(rss).toBeGreaterThan(10 * 1024 * 1024);
    expect(rss).toBeLessThan(4 * 1024 * 1024 * 1024);
    expect(value(s, "qntx_plugin_cpu_seconds_total", { plugin: "jobs" })).toBeGreaterThan(0);
  });

  it("has sane Pulse and attestation values", async () => {
    const s = await scrape();
    expect(value(s, "qntx_pulse_queue_depth", { status: "completed" })).toBe(2);
    expect(value(s, "qntx_pulse_queue_depth", { status: "failed" })).toBe(1);
    expect(value(s, "qntx_pulse_queue_depth", { status: "running" })).toBe(0);
    expect(value(s, "qntx_pulse_jobs_total", { handler: "jobs/echo", outcome: "completed" })).toBe(1);
    expect(value(s, "qntx_pulse_jobs_total", { handler: "jobs/always-fail", outcome: "retried" })).toBe(1);
    expect(value(s, "qntx_pulse_jobs_total", { handler: "jobs/always-fail", outcome: "failed" })).toBe(1);
    expect(value(s, "qntx_pulse_job_starts_total", { handler: "jobs/always-fail" })).toBe(2);
    expect(value(s, "qntx_pulse_job_attempts_sum", { handler: "jobs/always-fail" })).toBe(2);
    expect(value(s, "qntx_pulse_job_wait_seconds_count")).toBe(4);
    expect(value(s, "qntx_pulse_job_duration_seconds_count", { outcome: "completed" })).toBe(2);
    expect(value(s, "qntx_pulse_leases_reclaimed_total")).toBe(0);
    expect(value(s, "qntx_attestations_written_total")).toBe(1);
    expect(value(s, "qntx_attestation_queries_total", { kind: "query" })).toBeGreaterThanOrEqual(1);
  });
});
