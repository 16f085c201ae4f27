/**
 * WebSocket round-trip load: C connections, each sending a message and waiting for its echo
 * before sending the next, for a duration. Usage: node ws-pingpong.mjs <ws-url> <connections>
 * <seconds> [bytes] [warmupSeconds]. Prints {roundTrips, rps, p50, p99, errors, clientCpuUs}: latencies
 * in ms; clientCpuUs is this process's CPU per measured round trip (is the load generator the
 * limit of the faster side?).
 */
import WebSocket from "ws";
import { quantile } from "../lib/stats.mjs";

const [url, connections = "16", seconds = "5", bytes = "64", warmup = "1"] = process.argv.slice(2);
// The qntx gateway speaks QNTX's browser frame contract: JSON {type, data (base64), headers,
// timestamp}. Both servers get the same JSON text; the bare echo returns it as is, the host
// unwraps it, the plugin echoes the bytes, the host wraps them again.
const data = Buffer.alloc(Number(bytes), 0x61).toString("base64");
const payload = JSON.stringify({ type: "DATA", data });
const isEcho = (message) => {
  try {
    return JSON.parse(message.toString()).data === data;
  } catch {
    return false;
  }
};

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, headers: { origin: "http://127.0.0.1" } });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
  });
}

const sockets = await Promise.all(Array.from({ length: Number(connections) }, open));
let measuring = false;
let stopAt = performance.now() + Number(warmup) * 1000;
const latencies = [];
let errors = 0;

async function loop(ws) {
  while (performance.now() < stopAt) {
    const t0 = performance.now();
    await new Promise((resolve) => {
      ws.once("message", (message) => {
        if (!isEcho(message)) errors++;
        resolve();
      });
      ws.send(payload);
    });
    if (measuring) latencies.push(performance.now() - t0);
  }
}

await Promise.all(sockets.map(loop));
measuring = true;
const cpu0 = process.cpuUsage();
const started = performance.now();
stopAt = started + Number(seconds) * 1000;
await Promise.all(sockets.map(loop));
const elapsed = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpu0);
for (const ws of sockets) ws.terminate();
console.log(JSON.stringify({ roundTrips: latencies.length, rps: latencies.length / elapsed, errors, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), clientCpuUs: (cpu.user + cpu.system) / latencies.length }));
