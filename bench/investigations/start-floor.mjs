#!/usr/bin/env node
/**
 * The floor under `start20` (20 plugins ready < 3 s): how long 20 Node processes started at
 * once take when each does nothing (`node -e 0`), and when each only loads @grpc/grpc-js, the
 * least a Node gRPC plugin must do before it can answer. Alternating, several rounds; prints
 * the median wall time of each (ms) from the first spawn to the last exit.
 * Usage: node bench/investigations/start-floor.mjs [rounds=3] [processes=20]
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { REPO_DIR } from "../lib/procs.mjs";
import { quantile } from "../lib/stats.mjs";

const [roundsArg = "3", countArg = "20"] = process.argv.slice(2);
// grpc-js as the SDK resolves it, so the same copy and version the plugins load.
const GRPC = createRequire(join(REPO_DIR, "sdk", "package.json")).resolve("@grpc/grpc-js");

/** Spawns `count` copies of `node -e code` at once; resolves with ms until the last exits. */
function burst(code, count) {
  const started = performance.now();
  return Promise.all(
    Array.from({ length: count }, () =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["-e", code], { stdio: "ignore" });
        child.on("error", reject);
        child.on("exit", (status) => (status === 0 ? resolve() : reject(new Error(`node -e exited ${status}`))));
      }),
    ),
  ).then(() => performance.now() - started);
}

const sides = { "node -e 0": "0", "load @grpc/grpc-js": `require(${JSON.stringify(GRPC)})` };
const times = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
for (let r = 0; r < Number(roundsArg); r++) {
  const order = r % 2 === 0 ? Object.keys(sides) : Object.keys(sides).reverse();
  for (const name of order) times[name].push(await burst(sides[name], Number(countArg)));
}
for (const [name, values] of Object.entries(times)) {
  console.log(`${countArg} × ${name.padEnd(20)} median ${quantile(values, 0.5).toFixed(0)} ms (rounds ${values.map((v) => v.toFixed(0)).join(", ")})`);
}
