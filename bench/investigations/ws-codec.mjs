#!/usr/bin/env node
/**
 * Should the hand-written `WebSocketMessage` codec (packages/protocol/src/ws-codec.ts) give way
 * to ts-proto's? With `forceLong=bigint` the generated codec carries the int64 nanosecond
 * timestamps exactly, so the remaining question is speed. This generates that codec for the
 * one message (buf + ts-proto, the repository's pinned versions, into
 * packages/protocol/node_modules/.cache), checks both codecs agree byte for byte, then times
 * encode and decode of three frames, the two codecs alternating in rounds: ops/s and CPU µs per
 * op (median of rounds), and the generated codec's time as a multiple of ours.
 *
 *   node bench/investigations/ws-codec.mjs [rounds=7] [ms per round and side=300]
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { decodeWebSocketFrame, encodeWebSocketFrame, nowNs } from "@qntx/protocol";
import { REPO_DIR } from "../lib/procs.mjs";
import { fmt, summary } from "../lib/stats.mjs";

const rounds = Number(process.argv[2] ?? 7);
const sliceMs = Number(process.argv[3] ?? 300);

/** ts-proto's WebSocketMessage with forceLong=bigint, transpiled to a module next to @bufbuild/protobuf. */
async function generatedCodec() {
  const out = join(REPO_DIR, "packages/protocol/node_modules/.cache/ws-codec-bench");
  rmSync(out, { recursive: true, force: true });
  const template = {
    version: "v2",
    plugins: [{ local: join(REPO_DIR, "node_modules/.bin/protoc-gen-ts_proto"), out, opt: ["forceLong=bigint", "env=node", "esModuleInterop=true", "useOptionals=messages", "outputServices=false"] }],
  };
  const buf = spawnSync(join(REPO_DIR, "node_modules/.bin/buf"), ["generate", "--template", JSON.stringify(template), "--path", "proto/domain.proto", "--type", "protocol.WebSocketMessage"], { cwd: REPO_DIR, encoding: "utf8" });
  if (buf.status !== 0) throw new Error(`buf generate failed: ${buf.stderr}`);
  const ts = createRequire(join(REPO_DIR, "package.json"))("typescript");
  const source = readFileSync(join(out, "proto/domain.ts"), "utf8");
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "domain.mjs"), js);
  return (await import(pathToFileURL(join(out, "domain.mjs")).href)).WebSocketMessage;
}

const Generated = await generatedCodec();
const generated = {
  encode: (frame) => Generated.encode(frame).finish(),
  decode: (bytes) => Generated.decode(bytes),
};
const ours = { encode: encodeWebSocketFrame, decode: decodeWebSocketFrame };

const FRAMES = {
  ping: { type: 4, data: Buffer.alloc(0), headers: {}, timestamp: nowNs() },
  "data-64": { type: 1, data: Buffer.alloc(64, 7), headers: { "content-type": "text", seq: "41" }, timestamp: nowNs() },
  "data-4k": { type: 1, data: Buffer.alloc(4096, 7), headers: {}, timestamp: nowNs() },
};

// Both codecs must agree before their speed means anything.
for (const [name, frame] of Object.entries(FRAMES)) {
  const a = Buffer.from(ours.encode(frame));
  const b = Buffer.from(generated.encode(frame));
  if (!a.equals(b)) throw new Error(`${name}: the codecs write different bytes`);
  const back = generated.decode(a);
  if (back.timestamp !== frame.timestamp || ours.decode(b).timestamp !== frame.timestamp) throw new Error(`${name}: a timestamp did not survive`);
}

let sink = 0;
/** Runs `op` for about `sliceMs`; ops/s and CPU µs per op. */
function timed(op) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < sliceMs) {
    for (let i = 0; i < 1000; i++) sink += op().length ?? 1;
    n += 1000;
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { opsPerS: (n / wallMs) * 1000, cpuUsPerOp: (cpu.user + cpu.system) / n };
}

const results = {};
for (const [name, frame] of Object.entries(FRAMES)) {
  const bytes = Buffer.from(ours.encode(frame));
  const cases = {
    encode: { ours: () => ours.encode(frame), generated: () => generated.encode(frame) },
    decode: { ours: () => ours.decode(bytes).data, generated: () => generated.decode(bytes).data },
  };
  for (const [what, sides] of Object.entries(cases)) {
    const samples = { ours: [], generated: [] };
    timed(sides.ours);
    timed(sides.generated); // warm-up of both
    for (let r = 0; r < rounds; r++) {
      for (const side of r % 2 === 0 ? ["ours", "generated"] : ["generated", "ours"]) samples[side].push(timed(sides[side]));
    }
    const med = (side, key) => summary(samples[side].map((s) => s[key])).median;
    results[`${what} ${name}`] = {
      oursOpsPerS: med("ours", "opsPerS"), generatedOpsPerS: med("generated", "opsPerS"),
      oursCpuUs: med("ours", "cpuUsPerOp"), generatedCpuUs: med("generated", "cpuUsPerOp"),
      generatedTimesOurs: med("generated", "cpuUsPerOp") / med("ours", "cpuUsPerOp"),
    };
  }
}

console.log("| op, frame | ours ops/s | generated ops/s | ours CPU µs/op | generated CPU µs/op | generated ÷ ours (CPU) |");
console.log("|---|---|---|---|---|---|");
for (const [key, r] of Object.entries(results)) {
  console.log(`| ${key} | ${fmt(r.oursOpsPerS)} | ${fmt(r.generatedOpsPerS)} | ${fmt(r.oursCpuUs)} | ${fmt(r.generatedCpuUs)} | ${r.generatedTimesOurs.toFixed(2)}× |`);
}
if (sink === 0.5) console.log(sink); // keeps the results alive
