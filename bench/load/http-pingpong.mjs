/**
 * Latency load generator: ONE keep-alive connection, one request at a time, for a duration,
 * timing each round trip with the monotonic clock (µs resolution; autocannon records whole
 * milliseconds, too coarse for a sub-millisecond p50). Raw HTTP/1.1 on a net.Socket, so the
 * client costs as little as possible.
 * Usage: node http-pingpong.mjs <url> <seconds> [warmupSeconds]
 * Prints {requests, rps, p50, p90, p99, max, errors} (ms).
 */
import { connect } from "node:net";
import { quantile } from "../lib/stats.mjs";

const url = new URL(process.argv[2]);
const seconds = Number(process.argv[3] ?? 5);
const warmup = Number(process.argv[4] ?? 1);
const request = Buffer.from(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: */*\r\n\r\n`);

const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));

let buffer = Buffer.alloc(0);
let pending;
socket.on("data", (chunk) => {
  buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
  const end = buffer.indexOf("\r\n\r\n");
  if (end === -1) return;
  const head = buffer.subarray(0, end).toString("latin1");
  const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1]);
  let total;
  if (Number.isFinite(length)) total = end + 4 + length;
  else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const term = buffer.indexOf("0\r\n\r\n", end + 4);
    if (term === -1) return;
    total = term + 5;
  } else throw new Error(`response without a length: ${head}`);
  if (buffer.length < total) return;
  const status = Number(head.slice(9, 12));
  buffer = buffer.subarray(total);
  const resolve = pending;
  pending = undefined;
  resolve(status);
});
socket.on("error", (err) => {
  console.error(err);
  process.exit(1);
});

const once = () =>
  new Promise((resolve) => {
    pending = resolve;
    socket.write(request);
  });

const latencies = [];
let errors = 0;
for (const phase of ["warmup", "measure"]) {
  const until = performance.now() + (phase === "warmup" ? warmup : seconds) * 1000;
  const started = performance.now();
  while (performance.now() < until) {
    const t0 = performance.now();
    const status = await once();
    const dt = performance.now() - t0;
    if (phase === "measure") {
      if (status !== 200) errors++;
      latencies.push(dt);
    }
  }
  if (phase === "measure") {
    const elapsed = (performance.now() - started) / 1000;
    console.log(JSON.stringify({
      requests: latencies.length, rps: latencies.length / elapsed, errors,
      p50: quantile(latencies, 0.5), p90: quantile(latencies, 0.9), p99: quantile(latencies, 0.99), max: Math.max(...latencies),
    }));
  }
}
socket.destroy();
