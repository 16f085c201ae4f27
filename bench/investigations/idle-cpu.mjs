#!/usr/bin/env node
/**
 * Diagnostic (not part of `pnpm bench`): CPU each serving process burns while idle, in ms of
 * CPU per second of wall time. At one connection, "server CPU per request" divides all CPU
 * used during the run by the requests served, so a process that wakes up on its own (timers,
 * polling) shows up there as per-request cost. Measures the host (with the hello plugin) and
 * its plugin, the two-hop front and the bare echo, the same way, idle.
 * Usage: node bench/investigations/idle-cpu.mjs [seconds=10]
 */
import { join } from "node:path";
import { FIXTURES, cpuMsOf, spawnWithPort, stopChild } from "../lib/procs.mjs";
import { HELLO_PLUGIN, startHostWith } from "../lib/hosts.mjs";

const seconds = Number(process.argv[2] ?? 10);
const echo = await spawnWithPort(join(FIXTURES, "bare-echo.mjs"));
const twoHop = await spawnWithPort(join(FIXTURES, "two-hop.mjs"), [], { env: { ECHO_ADDRESS: `127.0.0.1:${echo.port}` } });
const host = await startHostWith("idle-cpu", [{ name: "hello", binary: HELLO_PLUGIN }]);
const pids = { host: host.host.pid, "hello plugin": host.ready.plugins[0].pid, "two-hop": twoHop.child.pid, "bare echo": echo.child.pid };
try {
  // Let start-up work (JIT, first health checks) settle before measuring.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMsOf(pid)]));
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  for (const [name, pid] of Object.entries(pids)) {
    console.log(`${name.padEnd(14)} ${((cpuMsOf(pid) - before[name]) / seconds).toFixed(1)} ms CPU per second idle`);
  }
} finally {
  await stopChild(twoHop.child);
  await stopChild(echo.child);
  await host.cleanup();
}
