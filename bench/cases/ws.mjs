/**
 * WebSocket echo through the host (/ws/<name> → HandleWebSocket → SDK session echo), against
 * a bare `ws` echo server, with a floor between them: a bare relay (fixtures/ws-grpc-relay.mjs)
 * that does the least the protocol's extra gRPC hop allows (one raw grpc-js HandleWebSocket
 * stream per connection to a bare grpc-js echo, fixtures/ws-grpc-echo.mjs). 16 connections,
 * each one message in flight, counted round trips per second, from a load process of its own.
 * `ws`: 64-byte messages; `ws-4k`: 4 KiB, to show how much of the gap is a fixed cost per
 * message (bytes cost both sides alike). Rows "floor/bare" say what the hop itself allows;
 * rows "ours/floor" say what the host and the SDK add on top of it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR, FIXTURES, runJson, spawnWithPort, stopChild, withCpu } from "../lib/procs.mjs";
import { BENCH_PLUGIN, startHostWith } from "../lib/hosts.mjs";
import { pick } from "../lib/rounds.mjs";

const CONNECTIONS = 16;
const SIDES = ["baseline", "floor", "ours"];

/**
 * Like rounds.mjs `alternate`, for three sides: each round runs them all, the order rotating
 * and reversing from round to round (B F O, O F B, F O B, B O F, O B F, F B O), so no side
 * always follows the same one or always goes first.
 */
async function rotate(rounds, sides, log) {
  const out = Object.fromEntries(SIDES.map((s) => [s, []]));
  for (let r = 0; r < rounds; r++) {
    const shift = Math.floor(r / 2) % 3;
    let order = [...SIDES.slice(shift), ...SIDES.slice(0, shift)];
    if (r % 2 === 1) order = order.reverse();
    for (const side of order) {
      const result = await sides[side](r);
      out[side].push(result);
      log(`  round ${r + 1}/${rounds} ${side.padEnd(8)} ${JSON.stringify(result, (k, v) => (typeof v === "number" ? Math.round(v * 1000) / 1000 : v))}`);
    }
  }
  return out;
}

/**
 * The front process's (echo, relay or host) system CPU ms and read/write syscalls so far, from
 * /proc (Linux): where its time goes besides user space, and whether the hop adds syscalls.
 */
function frontCounters(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  const io = readFileSync(`/proc/${pid}/io`, "utf8");
  const count = (key) => Number(new RegExp(`^${key}: (\\d+)$`, "m").exec(io)?.[1] ?? NaN);
  return { sysMs: Number(stat[12]) * 10, syscalls: count("syscr") + count("syscw") };
}

/** The ws echo case for messages of `bytes` bytes (before base64 and the JSON frame). */
function wsCase(name, bytes, label) {
  /** @type {import("../run.mjs").Case} */
  return {
    name,
    title: `WebSocket echo via host /ws/benchp → SDK plugin, ${CONNECTIONS} connections, ${label} messages`,
    baseline: "a bare `ws` echo server; floor: a bare ws → grpc-js HandleWebSocket relay to a bare grpc-js echo",
    async run({ rounds = 3, seconds = 5, log }) {
      const ours = await startHostWith("ws", [{ name: "benchp", binary: BENCH_PLUGIN }]);
      // BENCH_PROFILE=<dir>: the bare echo and the floor's two processes are profiled too (they
      // exit through process.exit on SIGTERM, which writes the profile).
      const profile = process.env.BENCH_PROFILE ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] } : {};
      const echo = await spawnWithPort(join(FIXTURES, "ws-echo.mjs"), [], profile);
      const grpcEcho = await spawnWithPort(join(FIXTURES, "ws-grpc-echo.mjs"), [], profile);
      const relay = await spawnWithPort(join(FIXTURES, "ws-grpc-relay.mjs"), [`127.0.0.1:${grpcEcho.port}`], profile);
      const oursUrl = `${ours.host.url.replace(/^http/, "ws")}/ws/benchp`;
      // CPU of each serving process per round trip; the load's own CPU comes from the load process.
      // Logged per round, not tabled: the front's system CPU and read/write syscalls per round trip.
      const load = async (url, pids) => {
        const front0 = frontCounters(pids[0]);
        const [x, cpuMs, each] = await withCpu(pids, () => runJson(join(BENCH_DIR, "load", "ws-pingpong.mjs"), [url, CONNECTIONS, seconds, bytes, 1]));
        const front1 = frontCounters(pids[0]);
        const perRoundTrip = (ms) => (ms * 1000) / x.roundTrips;
        return {
          ...x, cpuUs: perRoundTrip(cpuMs), firstUs: perRoundTrip(each[0]), restUs: perRoundTrip(cpuMs - each[0]),
          firstSysUs: perRoundTrip(front1.sysMs - front0.sysMs), firstSyscalls: (front1.syscalls - front0.syscalls) / x.roundTrips,
        };
      };
      const sides = {
        baseline: () => load(`ws://127.0.0.1:${echo.port}/`, [echo.child.pid]),
        floor: () => load(`ws://127.0.0.1:${relay.port}/`, [relay.child.pid, grpcEcho.child.pid]),
        ours: () => load(oursUrl, [ours.host.pid, ...ours.ready.plugins.map((p) => p.pid)]),
      };
      try {
        const r = await rotate(rounds, sides, log);
        for (const side of ["ours", "floor"]) for (const x of r[side]) if (x.errors) throw new Error(`${name} ${side}: ${x.errors} bad echoes`);
        const floorNote = "the floor in the ours column, the bare echo as baseline";
        const vsFloorNote = "ours against the floor (relay + grpc echo) as baseline";
        return [
          { metric: "round trips/s", unit: "1/s", ours: pick(r.ours, "rps"), baseline: pick(r.baseline, "rps"), better: "higher", target: "≥ 50 % of baseline", pass: (o, b) => o >= 0.5 * b },
          { metric: "floor/bare round trips/s", unit: "1/s", ours: pick(r.floor, "rps"), baseline: pick(r.baseline, "rps"), better: "higher", target: "(info)", note: floorNote },
          { metric: "ours/floor round trips/s", unit: "1/s", ours: pick(r.ours, "rps"), baseline: pick(r.floor, "rps"), better: "higher", target: "(info)", note: vsFloorNote },
          { metric: "p99 round trip", unit: "ms", ours: pick(r.ours, "p99"), baseline: pick(r.baseline, "p99"), better: "lower", target: "(info)" },
          { metric: "ours/floor p99 round trip", unit: "ms", ours: pick(r.ours, "p99"), baseline: pick(r.floor, "p99"), better: "lower", target: "(info)", note: vsFloorNote },
          { metric: "server CPU per round trip", unit: "µs", ours: pick(r.ours, "cpuUs"), baseline: pick(r.baseline, "cpuUs"), better: "lower", target: "(info)", note: "host + plugin vs the echo server; includes warm-up second" },
          { metric: "floor/bare server CPU per round trip", unit: "µs", ours: pick(r.floor, "cpuUs"), baseline: pick(r.baseline, "cpuUs"), better: "lower", target: "(info)", note: "relay + grpc echo vs the echo server; includes warm-up second" },
          { metric: "ours/floor server CPU per round trip", unit: "µs", ours: pick(r.ours, "cpuUs"), baseline: pick(r.floor, "cpuUs"), better: "lower", target: "(info)", note: "host + plugin vs relay + grpc echo; includes warm-up second" },
          { metric: "host CPU per round trip", unit: "µs", ours: pick(r.ours, "firstUs"), baseline: pick(r.baseline, "firstUs"), better: "lower", target: "(info)", note: "the host alone (the plugin's share is the rest) vs the echo server; includes warm-up second" },
          { metric: "host/relay CPU per round trip", unit: "µs", ours: pick(r.ours, "firstUs"), baseline: pick(r.floor, "firstUs"), better: "lower", target: "(info)", note: "the host alone vs the relay alone; includes warm-up second" },
          { metric: "plugin/grpc-echo CPU per round trip", unit: "µs", ours: pick(r.ours, "restUs"), baseline: pick(r.floor, "restUs"), better: "lower", target: "(info)", note: "the SDK plugin vs the bare grpc-js echo; includes warm-up second" },
          { metric: "load generator CPU per round trip", unit: "µs", ours: pick(r.ours, "clientCpuUs"), baseline: pick(r.baseline, "clientCpuUs"), better: "lower", target: "(info)", note: "the ws-pingpong process, measured seconds only: the same client code on both sides, but its CPU per round trip grows when round trips come fewer per wake-up" },
        ];
      } finally {
        await Promise.all([stopChild(echo.child), stopChild(relay.child), stopChild(grpcEcho.child)]);
        await ours.cleanup();
      }
    },
  };
}

/** 64-byte messages (the issue 6 target). */
export const ws = wsCase("ws", 64, "64-byte");
/** 4 KiB messages: does the ratio move with the message size? */
export const ws4k = wsCase("ws-4k", 4096, "4 KiB");
