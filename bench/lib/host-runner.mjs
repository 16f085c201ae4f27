/**
 * The host under test: a child process that starts a qntx host with `startHost` (as
 * `qntx server` does: same config loader, same pino logger at QNTX_LOG_LEVEL), and answers
 * the bench's commands over IPC. The only glue is here; during HTTP load it is idle.
 *
 * Commands: start {toml, dataDir}, ready, token {plugin}, jobs {handler, n, batch, payloadBytes},
 * idle {handler, samples, gapMs, warmup}, close.
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger, loadConfig, startHost } from "@qntx/host";
import { jobPayload } from "./job-payload.mjs";

/** Wall-clock milliseconds with sub-ms resolution, comparable across processes on one machine. */
const wallNow = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let host;
let startedAt = 0;

const handlers = {
  async start({ toml, dataDir }) {
    const configPath = join(dataDir, "am.plugins.toml");
    writeFileSync(configPath, toml);
    const config = loadConfig({ configPath, cwd: dataDir });
    const logger = createLogger({ pretty: false });
    startedAt = performance.now();
    host = await startHost(config, logger);
    // BENCH_NO_AHEAD=1: Pulse without dispatch-ahead (A/B of that one change in one build;
    // reaches into the pool's settings, which the host's config does not expose).
    if (process.env.BENCH_NO_AHEAD === "1") host.pulse.pool.dispatcher.core.fastRunMs = 0;
    return { url: host.url, servicesAddress: host.servicesAddress, startMs: performance.now() - startedAt };
  },

  async ready() {
    await host.ready;
    const readyMs = performance.now() - startedAt;
    const plugins = host.registry.list().map((p) => ({ name: p.name, state: p.state, pid: p.pid, address: p.address, error: p.error }));
    return { readyMs, plugins };
  },

  token({ plugin }) {
    return host.tokens.issue(plugin);
  },

  /**
   * Enqueues `n` jobs in batches and resolves when every one has completed (durably: after the
   * finish transaction). `payloadBytes`: each job carries a JSON payload of about that size, and
   * its stored result is read back as JSON (as a caller of the job would).
   */
  async jobs({ handler, n, batch, payloadBytes = 0 }) {
    let completed = 0;
    let failed = 0;
    let resolveDone;
    const done = new Promise((r) => (resolveDone = r));
    const onJob = (job) => {
      if (job.status === "completed") {
        completed++;
        if (payloadBytes > 0) JSON.parse(Buffer.from(job.result).toString("utf8"));
      }
      else if (job.status === "failed") failed++;
      else return;
      if (completed + failed === n) resolveDone();
    };
    host.pulse.on("job", onJob);
    // Diagnostics: how many store transactions the run took (wrapping the instance's methods).
    const store = host.pulse.store;
    const calls = { finishAndClaim: 0, claim: 0, claimed: 0 };
    const wrap = (name, count) => {
      const original = store[name];
      store[name] = async (...args) => {
        calls[name]++;
        const out = await original.apply(store, args);
        calls.claimed += count(out);
        return out;
      };
      return () => (store[name] = original);
    };
    const unwrap = [wrap("finishAndClaim", (o) => o.claimed.length), wrap("claim", (o) => o.length)];
    const t0 = performance.now();
    for (let i = 0; i < n; i += batch) {
      const count = Math.min(batch, n - i);
      await host.pulse.enqueueMany(Array.from({ length: count }, (_, k) => (payloadBytes > 0 ? { handler, payload: jobPayload(payloadBytes, i + k) } : { handler })));
      // Let workers run between batches, as separate enqueue calls would.
      await new Promise((r) => setImmediate(r));
    }
    const enqueueMs = performance.now() - t0;
    await done;
    const totalMs = performance.now() - t0;
    host.pulse.off("job", onJob);
    for (const u of unwrap) u();
    const counts = await host.pulse.counts();
    return { n, completed, failed, enqueueMs, totalMs, counts, transactions: calls };
  },

  /**
   * Idle queue latency: enqueue one job, wait for it to complete, pause, repeat. The plugin's
   * handler returns its own wall-clock start time, so enqueue → handler start is measured
   * across the two processes. The first `warmup` jobs are run the same way and not counted, as
   * the raw floor (load/grpc-oneway.mjs) warms its channel with 20 calls before measuring: a
   * fresh host's first job pays the first call through grpc-js and the SDK (cold start, which
   * `cold` measures), not the idle queue.
   */
  async idle({ handler, samples, gapMs, warmup = 0 }) {
    const startLatency = [];
    const doneLatency = [];
    for (let i = -warmup; i < samples; i++) {
      await sleep(gapMs);
      let resolveJob;
      const finished = new Promise((r) => (resolveJob = r));
      const id = randomUUID();
      const onJob = (job) => {
        if (job.id === id && (job.status === "completed" || job.status === "failed")) resolveJob(job);
      };
      host.pulse.on("job", onJob);
      const t0 = wallNow();
      await host.pulse.enqueue({ handler, id });
      const end = await finished;
      const t1 = wallNow();
      host.pulse.off("job", onJob);
      if (end.status !== "completed") throw new Error(`job ${id} ${end.status}: ${end.error}`);
      const result = JSON.parse(Buffer.from(end.result ?? "{}").toString("utf8"));
      if (i < 0) continue;
      startLatency.push(result.startedAt - t0);
      doneLatency.push(t1 - t0);
    }
    return { startLatency, doneLatency };
  },

  async close() {
    await host?.close();
    return true;
  },
};

process.on("message", async (message) => {
  try {
    const result = await handlers[message.type](message);
    process.send({ id: message.id, result }, () => {
      if (message.type === "close") process.exit(0);
    });
  } catch (error) {
    process.send({ id: message.id, error: error instanceof Error ? error.stack ?? error.message : String(error) });
  }
});
process.on("disconnect", () => process.exit(0));
