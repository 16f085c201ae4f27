/**
 * Pulse end to end: jobs enqueued in the host, claimed, routed by ExecuteJob to an SDK plugin
 * process, and recorded `completed` in SQLite. Baseline: raw grpc-js ExecuteJob calls from a
 * process of their own to a bare grpc-js server, at the same concurrency.
 * Variants, named so that `run.mjs jobs` still selects `jobs` alone: `jobs4` at the host's
 * default pulse_concurrency, `jobs1k` with ~1 KiB of JSON each way. Idle: one job at a time on
 * an idle queue, enqueue → the plugin's handler starts.
 */
import { join } from "node:path";
import { BENCH_DIR, FIXTURES, runJson, spawnWithPort, stopChild, withCpu } from "../lib/procs.mjs";
import { BENCH_PLUGIN, startHostWith } from "../lib/hosts.mjs";
import { alternate, pick } from "../lib/rounds.mjs";
import { quantile } from "../lib/stats.mjs";

const JOBS = Number(process.env.BENCH_JOBS ?? 50_000);
const CONCURRENCY = Number(process.env.BENCH_JOBS_CONCURRENCY ?? 16);
const HANDLER = "benchp/noop";
/** The host's default pulse_concurrency (host/src/config/schema.ts), what `jobs4` runs at. */
const HOST_DEFAULT_CONCURRENCY = 4;
const PAYLOAD_BYTES = 1024;
const PAYLOAD_PLUGIN = join(FIXTURES, "sdk-payload-plugin.mjs");

/**
 * A `jobs` case: `n` jobs through the host (enqueue in batches of 1 000 → ExecuteJob on an SDK
 * plugin → completed) against raw grpc-js ExecuteJob calls at the same concurrency.
 * `concurrency` undefined: the host's default `pulse_concurrency` (not set in its config).
 * `payloadBytes` > 0: each job carries a JSON payload of about that size and returns a result
 * about as large (lib/job-payload.mjs), on both sides, with the plugins that do that work.
 */
function jobsCase({ name, title, concurrency, payloadBytes = 0 }) {
  const inFlight = concurrency ?? HOST_DEFAULT_CONCURRENCY;
  const plugin = payloadBytes > 0 ? PAYLOAD_PLUGIN : BENCH_PLUGIN;
  const handler = payloadBytes > 0 ? "benchp/score" : HANDLER;
  const server = payloadBytes > 0 ? "bare-payload.mjs" : "bare-echo.mjs";
  return {
    name,
    title,
    baseline: `raw grpc-js unary ExecuteJob calls, ${inFlight} in flight, to a bare grpc-js server${payloadBytes > 0 ? " doing the same work on the same payload" : ""}`,
    async run({ rounds = 3, log }) {
      const echo = await spawnWithPort(join(FIXTURES, server));
      try {
        const r = await alternate(rounds, {
          baseline: async () => {
            const args = [`127.0.0.1:${echo.port}`, JOBS, inFlight, payloadBytes, handler.split("/")[1]];
            const [x, serverMs] = await withCpu([echo.child.pid], () => runJson(join(BENCH_DIR, "load", "grpc-calls.mjs"), args));
            if (x.errors) throw new Error(`baseline: ${x.errors} failed calls`);
            return { perSec: x.perSec, ms: x.ms, cpuUs: ((serverMs + x.cpuMs) * 1000) / JOBS, clientCpuUs: (x.cpuMs * 1000) / JOBS, serverCpuUs: (serverMs * 1000) / JOBS };
          },
          ours: async () => {
            // A fresh host (empty queue) per round.
            const settings = concurrency === undefined ? {} : { pulse_concurrency: concurrency };
            const s = await startHostWith(name, [{ name: "benchp", binary: plugin }], settings);
            try {
              const pids = [s.host.pid, ...s.ready.plugins.map((p) => p.pid)];
              const [x, cpuMs, [hostMs, pluginMs]] = await withCpu(pids, () => s.host.request({ type: "jobs", handler, n: JOBS, batch: 1000, payloadBytes }));
              if (x.completed !== JOBS || x.counts.completed !== JOBS) throw new Error(`ours: ${x.completed} completed events, ${x.counts.completed} completed rows, ${x.failed} failed of ${JOBS}`);
              return { perSec: JOBS / (x.totalMs / 1000), ms: x.totalMs, enqueueMs: x.enqueueMs, cpuUs: (cpuMs * 1000) / JOBS, hostCpuUs: (hostMs * 1000) / JOBS, pluginCpuUs: (pluginMs * 1000) / JOBS, jobsPerFinishTx: JOBS / x.transactions.finishAndClaim, claims: x.transactions.claim };
            } finally {
              await s.cleanup();
            }
          },
        }, log);
        return [
          {
            metric: "jobs/s vs calls/s", unit: "1/s", ours: pick(r.ours, "perSec"), baseline: pick(r.baseline, "perSec"), better: "higher",
            target: "≥ 60 % and ≥ 5 000/s", pass: (o, b) => o >= 0.6 * b && o >= 5000,
          },
          {
            metric: "CPU per job vs per call", unit: "µs", ours: pick(r.ours, "cpuUs"), baseline: pick(r.baseline, "cpuUs"), better: "lower", target: "(info)",
            note: "host + plugin CPU per job vs client + server CPU per raw call; CPU time, so it holds under load",
          },
          { metric: "host CPU per job vs client CPU per call", unit: "µs", ours: pick(r.ours, "hostCpuUs"), baseline: pick(r.baseline, "clientCpuUs"), better: "lower", target: "(info)" },
        ];
      } finally {
        await stopChild(echo.child);
      }
    },
  };
}

/** @type {import("../run.mjs").Case} */
export const jobs = jobsCase({
  name: "jobs",
  title: `${JOBS.toLocaleString("en-US")} no-op jobs: enqueue (batches of 1 000) → ExecuteJob on an SDK plugin → completed, pulse_concurrency ${CONCURRENCY}`,
  concurrency: CONCURRENCY,
});

/** @type {import("../run.mjs").Case} */
export const jobsC4 = jobsCase({
  name: "jobs4",
  title: `${JOBS.toLocaleString("en-US")} no-op jobs as \`jobs\`, at the host's default pulse_concurrency (${HOST_DEFAULT_CONCURRENCY}, not set in its config)`,
  concurrency: undefined,
});

/** @type {import("../run.mjs").Case} */
export const jobsPayload = jobsCase({
  name: "jobs1k",
  title: `${JOBS.toLocaleString("en-US")} jobs as \`jobs\` with a ${PAYLOAD_BYTES} B JSON payload each, the handler parsing it and returning a ~${PAYLOAD_BYTES} B JSON result, pulse_concurrency ${CONCURRENCY}`,
  concurrency: CONCURRENCY,
  payloadBytes: PAYLOAD_BYTES,
});

/** @type {import("../run.mjs").Case} */
export const idle = {
  name: "idle",
  title: "idle queue: enqueue one job → SDK plugin handler starts (200 jobs per round after 20 not counted, 20 ms apart, default pulse_concurrency)",
  baseline: "(reference, not a target) the floor: a raw grpc-js ExecuteJob from a client process to the same SDK plugin, same pattern (call → handler start, and round trip)",
  async run({ rounds = 3, log }) {
    const s = await startHostWith("idle", [{ name: "benchp", binary: BENCH_PLUGIN }]);
    const floor = await spawnWithPort(BENCH_PLUGIN, [], { env: { BENCH_PLUGIN_NAME: "floor", BENCH_PLUGIN_PROFILE: "" } });
    try {
      const r = await alternate(rounds, {
        baseline: () => runJson(join(BENCH_DIR, "load", "grpc-oneway.mjs"), [`127.0.0.1:${floor.port}`, 200, 20]),
        ours: async () => {
          const x = await s.host.request({ type: "idle", handler: HANDLER, samples: 200, gapMs: 20, warmup: 20 });
          return {
            startP50: quantile(x.startLatency, 0.5), startP99: quantile(x.startLatency, 0.99),
            doneP50: quantile(x.doneLatency, 0.5), doneP99: quantile(x.doneLatency, 0.99),
          };
        },
      }, log);
      return [
        { metric: "enqueue → handler start p50 vs raw call → handler start p50", unit: "ms", ours: pick(r.ours, "startP50"), baseline: pick(r.baseline, "startP50"), better: "lower", target: "< 2 ms", pass: (o) => o < 2 },
        { metric: "enqueue → handler start p99 vs raw call → handler start p99", unit: "ms", ours: pick(r.ours, "startP99"), baseline: pick(r.baseline, "startP99"), better: "lower", target: "< 10 ms", pass: (o) => o < 10 },
        { metric: "enqueue → completed p50 vs raw round trip p50", unit: "ms", ours: pick(r.ours, "doneP50"), baseline: pick(r.baseline, "p50"), better: "lower", target: "(info)" },
      ];
    } finally {
      await stopChild(floor.child);
      await s.cleanup();
    }
  },
};
