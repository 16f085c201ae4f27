/**
 * W3C traces across the hop, with a real SDK plugin process (fixtures/trace-plugin.mjs): the
 * request's `traceparent` reaches the plugin (header and call metadata, as `ctx.trace`), the
 * job the route enqueues through the host's QueueService stores it, and its ExecuteJob run
 * sees the same trace. With `[host] otlp_endpoint`, a local OTLP/HTTP receiver started here
 * gets the host span, the plugin hop span and the job span of one trace; without it, no
 * @opentelemetry module loads (a child process says what it loaded).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { hostTable, http, startTestHost, until, type TestHost } from "./harness.js";
import { pulseApi } from "./helpers/pulse-api.js";

const TRACE_PLUGIN = fileURLToPath(new URL("./fixtures/trace-plugin.mjs", import.meta.url));
const PROBE = fileURLToPath(new URL("./fixtures/otel-probe.mjs", import.meta.url));
const PLUGINS = `[plugins.tp]\nbinary = ${JSON.stringify(TRACE_PLUGIN)}\n`;
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";

interface Trace {
  traceId: string;
  spanId: string;
  flags: string;
  state: string;
}

/** One span as the OTLP/HTTP JSON export carries it. */
interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

/** A local OTLP/HTTP receiver: collects the spans POSTed to /v1/traces. */
async function startReceiver(): Promise<{ server: Server; url: string; spans: ExportedSpan[] }> {
  const spans: ExportedSpan[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      if (req.url === "/v1/traces" && req.headers["content-type"]?.includes("json")) {
        const data = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: ExportedSpan[] }> }> };
        for (const r of data.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, spans };
}

describe("propagation (no export)", () => {
  let t: TestHost;
  const { waitFor } = pulseApi(() => t);

  beforeAll(async () => {
    t = await startTestHost(PLUGINS);
    await t.host.ready;
  });
  afterAll(async () => {
    await t?.close();
  });

  it("carries the caller's trace to the route and to the job it enqueues", async () => {
    const res = await http(`${t.url}/api/tp/start`, { headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`, tracestate: "vendor=1" } });
    expect(res.status).toBe(200);
    const { trace, header, jobId } = res.json() as { trace: Trace; header: string; jobId: string };
    // Same trace; the parent is the host's hop, not the caller's span.
    expect(trace).toEqual({ traceId: TRACE_ID, spanId: expect.stringMatching(/^[0-9a-f]{16}$/), flags: "01", state: "vendor=1" });
    expect(trace.spanId).not.toBe(CALLER_SPAN);
    expect(header).toBe(`00-${TRACE_ID}-${trace.spanId}-01`);
    const job = await waitFor(jobId, ["completed"]);
    const run = (job.result as { trace: Trace }).trace;
    expect(run.traceId).toBe(TRACE_ID);
    expect(run.state).toBe("vendor=1");
    expect(run.spanId).not.toBe(trace.spanId);
  });

  it("starts a trace when the request has none, or an invalid one", async () => {
    for (const headers of [{}, { traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01" }, { traceparent: "garbage" }] as Array<Record<string, string>>) {
      const { trace, header } = (await http(`${t.url}/api/tp/start`, { headers })).json() as { trace: Trace; header: string };
      expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(trace.traceId).not.toBe("0".repeat(32));
      expect(header).toBe(`00-${trace.traceId}-${trace.spanId}-01`);
    }
  });
});

describe("export over OTLP/HTTP", () => {
  let t: TestHost;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const { waitFor } = pulseApi(() => t);

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestHost(PLUGINS, { otlp_endpoint: receiver.url });
    await t.host.ready;
  });
  afterAll(async () => {
    await t?.close();
    receiver?.server.close();
  });

  it("exports the host span, the plugin hop and the job run of one request as one trace", async () => {
    const { trace, jobId } = (await http(`${t.url}/api/tp/start`, { headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` } })).json() as { trace: Trace; jobId: string };
    await waitFor(jobId, ["completed"]);
    const spans = await until(() => {
      const ours = receiver.spans.filter((s) => s.traceId === TRACE_ID);
      return ours.some((s) => s.name === "job tp/record") && ours.some((s) => s.name === "tp HandleHTTP") ? ours : undefined;
    }, "the three spans at the receiver");
    const server = spans.find((s) => s.name === "GET /api/tp")!;
    const hop = spans.find((s) => s.name === "tp HandleHTTP")!;
    const job = spans.find((s) => s.name === "job tp/record")!;
    expect(server.parentSpanId).toBe(CALLER_SPAN);
    expect(hop.parentSpanId).toBe(server.spanId);
    // The plugin saw the hop as its parent, and the job it enqueued hangs under that.
    expect(trace.spanId).toBe(hop.spanId);
    expect(job.parentSpanId).toBe(hop.spanId);
  });
});

describe("OpenTelemetry loads only when export is on", () => {
  const run = promisify(execFile);

  async function probe(extra: Record<string, string>): Promise<{ status: number; otel: string[] }> {
    const dir = (await import("node:fs")).mkdtempSync(join((await import("node:os")).tmpdir(), "qntx-otel-probe-"));
    const config = join(dir, "am.plugins.toml");
    writeFileSync(config, `${await hostTable(dir, extra)}\n${PLUGINS}`);
    const { stdout } = await run(process.execPath, [PROBE, config, "/api/tp/start"], { env: { ...process.env, QNTX_OTLP_ENDPOINT: "" } });
    return JSON.parse(stdout.trim().split("\n").pop()!) as { status: number; otel: string[] };
  }

  it("loads none without otlp_endpoint, and the exporter with it", async () => {
    const off = await probe({});
    expect(off.status).toBe(200);
    expect(off.otel).toEqual([]);
    const receiver = await startReceiver();
    try {
      const on = await probe({ otlp_endpoint: receiver.url });
      expect(on.status).toBe(200);
      expect(on.otel.some((file) => file.includes("exporter-trace-otlp-http"))).toBe(true);
    } finally {
      receiver.server.close();
    }
  }, 60_000);
});
