#!/usr/bin/env node
/**
 * Startup cost of the QNTX-format runner against an SDK plugin compiled to JS: spawn →
 * `QNTX_PLUGIN_PORT=` → first `Metadata` answer, wall time and CPU time of the process tree
 * (tsx's esbuild service runs as a child process, so it is counted). Runs are interleaved so a
 * busy machine slows every case alike; the first run of each case starts with an empty tsx
 * cache (a private TMPDIR). Needs `pnpm build` first.
 *
 *   node examples/qntx-module/measure-startup.mjs [runs=15]
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
// This folder has no dependencies: borrow the SDK's.
const fromSdk = createRequire(join(root, "sdk", "package.json"));
const grpc = fromSdk("@grpc/grpc-js");
const { DomainPluginServiceClient } = await import(fromSdk.resolve("@qntx/protocol"));

const runs = Number(process.argv[2] ?? 15);
const cacheDir = mkdtempSync(join(tmpdir(), "qntx-startup-"));
const runner = join(root, "sdk/dist/qntx-module/cli.js");
const cases = {
  "SDK plugin, compiled JS (examples/hello/dist/main.js)": [join(root, "examples/hello/dist/main.js")],
  "runner + QNTX folder (examples/qntx-module)": [runner, "--plugin-path", join(root, "examples/qntx-module")],
  "runner + SDK plugin as .ts (qntx-modules/sdk-plugin.ts)": [runner, "--plugin-path", join(root, "host/test/fixtures/qntx-modules/sdk-plugin.ts")],
  "node --import tsx examples/hello/src/main.ts": ["--import", fromSdk.resolve("tsx"), join(root, "examples/hello/src/main.ts")],
};

/** CPU milliseconds of `root` and its descendants, from /proc (Linux). */
function treeCpuMs(rootPid) {
  const procs = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      procs.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      /* gone */
    }
  }
  let ticks = 0;
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.pop();
    ticks += procs.get(pid)?.ticks ?? 0;
    for (const [child, info] of procs) if (info.ppid === pid) queue.push(child);
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

function once(args) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...args, "--port", "0"], { stdio: ["ignore", "pipe", "ignore"], env: { ...process.env, TMPDIR: cacheDir } });
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const port = /^QNTX_PLUGIN_PORT=(\d+)$/.exec(line)?.[1];
      if (!port) return;
      const client = new DomainPluginServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      client.metadata({}, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err) => {
        const wall = performance.now() - t0;
        const cpu = treeCpuMs(child.pid);
        client.close();
        child.removeAllListeners("exit");
        child.kill("SIGKILL");
        if (err) reject(err);
        else resolve({ wall, cpu });
      });
    });
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const results = {};
for (const [name, args] of Object.entries(cases)) {
  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(cacheDir);
  results[name] = { first: await once(args), wall: [], cpu: [] };
}
for (let i = 0; i < runs; i++) {
  for (const [name, args] of Object.entries(cases)) {
    const { wall, cpu } = await once(args);
    results[name].wall.push(wall);
    results[name].cpu.push(cpu);
  }
}
rmSync(cacheDir, { recursive: true, force: true });
console.log(`spawn → Metadata answered, ${runs} warm runs each (median), first run with an empty tsx cache`);
for (const [name, r] of Object.entries(results)) {
  console.log(`${name}\n  wall ${median(r.wall).toFixed(0)} ms (min ${Math.min(...r.wall).toFixed(0)}), CPU ${median(r.cpu)} ms; first run: wall ${r.first.wall.toFixed(0)} ms, CPU ${r.first.cpu} ms`);
}
