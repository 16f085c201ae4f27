/**
 * WebSocket echo through the host (/ws/<name> → HandleWebSocket → SDK session echo), against
 * a bare `ws` echo server. 16 connections, each one message in flight, counted round trips
 * per second, from a load process of its own. `ws`: 64-byte messages; `ws-4k`: 4 KiB, to
 * show how much of the gap is a fixed cost per message (bytes cost both sides alike).
 */
import { join } from "node:path";
import { BENCH_DIR, FIXTURES, runJson, spawnWithPort, stopChild, withCpu } from "../lib/procs.mjs";
import { BENCH_PLUGIN, startHostWith } from "../lib/hosts.mjs";
import { alternate, pick } from "../lib/rounds.mjs";

const CONNECTIONS = 16;

/** The ws echo case for messages of `bytes` bytes (before base64 and the JSON frame). */
function wsCase(name, bytes, label) {
  /** @type {import("../run.mjs").Case} */
  return {
    name,
    title: `WebSocket echo via host /ws/benchp → SDK plugin, ${CONNECTIONS} connections, ${label} messages`,
    baseline: "a bare `ws` echo server",
    async run({ rounds = 3, seconds = 5, log }) {
      const ours = await startHostWith("ws", [{ name: "benchp", binary: BENCH_PLUGIN }]);
      const echo = await spawnWithPort(join(FIXTURES, "ws-echo.mjs"));
      const oursUrl = `${ours.host.url.replace(/^http/, "ws")}/ws/benchp`;
      const baselineUrl = `ws://127.0.0.1:${echo.port}/`;
      // CPU of each serving process per round trip; the load's own CPU comes from the load process.
      const load = async (url, pids) => {
        const [x, cpuMs, each] = await withCpu(pids, () => runJson(join(BENCH_DIR, "load", "ws-pingpong.mjs"), [url, CONNECTIONS, seconds, bytes, 1]));
        const perRoundTrip = (ms) => (ms * 1000) / x.roundTrips;
        return { ...x, cpuUs: perRoundTrip(cpuMs), firstUs: perRoundTrip(each[0]), restUs: perRoundTrip(cpuMs - each[0]) };
      };
      const oursPids = [ours.host.pid, ...ours.ready.plugins.map((p) => p.pid)];
      try {
        const r = await alternate(rounds, { baseline: () => load(baselineUrl, [echo.child.pid]), ours: () => load(oursUrl, oursPids) }, log);
        for (const x of r.ours) if (x.errors) throw new Error(`${name}: ${x.errors} bad echoes`);
        return [
          { metric: "round trips/s", unit: "1/s", ours: pick(r.ours, "rps"), baseline: pick(r.baseline, "rps"), better: "higher", target: "≥ 50 % of baseline", pass: (o, b) => o >= 0.5 * b },
          { metric: "p99 round trip", unit: "ms", ours: pick(r.ours, "p99"), baseline: pick(r.baseline, "p99"), better: "lower", target: "(info)" },
          { metric: "server CPU per round trip", unit: "µs", ours: pick(r.ours, "cpuUs"), baseline: pick(r.baseline, "cpuUs"), better: "lower", target: "(info)", note: "host + plugin vs the echo server; includes warm-up second" },
          { metric: "host CPU per round trip", unit: "µs", ours: pick(r.ours, "firstUs"), baseline: pick(r.baseline, "firstUs"), better: "lower", target: "(info)", note: "the host alone (the plugin's share is the rest) vs the echo server; includes warm-up second" },
          { metric: "load generator CPU per round trip", unit: "µs", ours: pick(r.ours, "clientCpuUs"), baseline: pick(r.baseline, "clientCpuUs"), better: "lower", target: "(info)", note: "the ws-pingpong process, measured seconds only: the same client code on both sides, but its CPU per round trip grows when round trips come fewer per wake-up" },
        ];
      } finally {
        await stopChild(echo.child);
        await ours.cleanup();
      }
    },
  };
}

/** 64-byte messages (the issue 6 target). */
export const ws = wsCase("ws", 64, "64-byte");
/** 4 KiB messages: does the ratio move with the message size? */
export const ws4k = wsCase("ws-4k", 4096, "4 KiB");
