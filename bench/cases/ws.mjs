/**
 * WebSocket echo through the host (/ws/<name> → HandleWebSocket → SDK session echo), against
 * a bare `ws` echo server. 16 connections, each one message in flight (64 bytes), counted
 * round trips per second, from a load process of its own.
 */
import { join } from "node:path";
import { BENCH_DIR, FIXTURES, runJson, spawnWithPort, stopChild, withCpu } from "../lib/procs.mjs";
import { BENCH_PLUGIN, startHostWith } from "../lib/hosts.mjs";
import { alternate, pick } from "../lib/rounds.mjs";

const CONNECTIONS = 16;

/** @type {import("../run.mjs").Case} */
export const ws = {
  name: "ws",
  title: `WebSocket echo via host /ws/benchp → SDK plugin, ${CONNECTIONS} connections, 64-byte messages`,
  baseline: "a bare `ws` echo server",
  async run({ rounds = 3, seconds = 5, log }) {
    const ours = await startHostWith("ws", [{ name: "benchp", binary: BENCH_PLUGIN }]);
    const echo = await spawnWithPort(join(FIXTURES, "ws-echo.mjs"));
    const oursUrl = `${ours.host.url.replace(/^http/, "ws")}/ws/benchp`;
    const baselineUrl = `ws://127.0.0.1:${echo.port}/`;
    const load = async (url, pids) => {
      const [x, cpuMs] = await withCpu(pids, () => runJson(join(BENCH_DIR, "load", "ws-pingpong.mjs"), [url, CONNECTIONS, seconds, 64, 1]));
      return { ...x, cpuUs: (cpuMs * 1000) / x.roundTrips };
    };
    const oursPids = [ours.host.pid, ...ours.ready.plugins.map((p) => p.pid)];
    try {
      const r = await alternate(rounds, { baseline: () => load(baselineUrl, [echo.child.pid]), ours: () => load(oursUrl, oursPids) }, log);
      for (const x of r.ours) if (x.errors) throw new Error(`ws: ${x.errors} bad echoes`);
      return [
        { metric: "round trips/s", unit: "1/s", ours: pick(r.ours, "rps"), baseline: pick(r.baseline, "rps"), better: "higher", target: "≥ 50 % of baseline", pass: (o, b) => o >= 0.5 * b },
        { metric: "p99 round trip", unit: "ms", ours: pick(r.ours, "p99"), baseline: pick(r.baseline, "p99"), better: "lower", target: "(info)" },
        { metric: "server CPU per round trip", unit: "µs", ours: pick(r.ours, "cpuUs"), baseline: pick(r.baseline, "cpuUs"), better: "lower", target: "(info)", note: "host + plugin vs the echo server; includes warm-up second" },
      ];
    } finally {
      await stopChild(echo.child);
      await ours.cleanup();
    }
  },
};
