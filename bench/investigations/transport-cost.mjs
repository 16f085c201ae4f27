#!/usr/bin/env node
/**
 * What auto-mTLS costs (issue 15). Two measurements, plaintext and auto-mTLS alternating in one
 * run so the machine's state is shared:
 *  1. start-up: spawn an SDK plugin → its port line → first Metadata answered (plaintext: as
 *     today; auto-mTLS: the plugin makes its certificate, the host dials it pinned);
 *  2. per-call latency: sequential HandleHTTP calls on one long-lived channel of each kind.
 * Also the host's one-time cost: its client certificate (library load included), made once
 * per host process. Prints a JSON summary.
 *
 *   node bench/investigations/transport-cost.mjs [rounds=8] [calls=2000]
 */
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { CLIENT_CERT_ENV, DomainPluginServiceClient, grpcOptions, makeSelfSignedCertificate, parseCertLine, parsePortLine } from "@qntx/protocol";
import { FIXTURES, REPO_DIR, stopChild } from "../lib/procs.mjs";
import { summary } from "../lib/stats.mjs";

const rounds = Number(process.argv[2] ?? 8);
const calls = Number(process.argv[3] ?? 2000);
const PLUGIN = join(FIXTURES, "sdk-plugin.mjs");

const t0 = performance.now();
const identity = await makeSelfSignedCertificate({ commonName: "qntx-host" });
const hostIdentityMs = performance.now() - t0;
const t1 = performance.now();
await makeSelfSignedCertificate({ commonName: "qntx-host" });
const secondCertMs = performance.now() - t1;

/** Spawns the plugin; resolves with its port and (under auto-mTLS) its certificate. */
function launch(autoMtls) {
  const child = spawn(process.execPath, [PLUGIN, "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"], cwd: REPO_DIR, env: { ...process.env, ...(autoMtls ? { [CLIENT_CERT_ENV]: identity.cert } : {}) },
  });
  return new Promise((resolve, reject) => {
    let buffered = "";
    let cert;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (data) => {
      buffered += data;
      for (let end = buffered.indexOf("\n"); end !== -1; end = buffered.indexOf("\n")) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        cert ??= parseCertLine(line);
        const port = parsePortLine(line);
        if (port !== undefined) return resolve({ child, port, cert });
      }
    });
    child.once("exit", (code) => reject(new Error(`plugin exited (${code})`)));
  });
}

function clientFor({ port, cert }) {
  if (!cert) return new DomainPluginServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), grpcOptions());
  const pinned = Buffer.from(new X509Certificate(cert).toString());
  return new DomainPluginServiceClient(`127.0.0.1:${port}`, grpc.credentials.createSsl(pinned, Buffer.from(identity.key), Buffer.from(identity.cert)), {
    ...grpcOptions(), "grpc.ssl_target_name_override": "localhost", "grpc.default_authority": "localhost",
  });
}

const unary = (client, method, request) =>
  new Promise((resolve, reject) => client[method](request, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res))));

const startup = { plain: [], autoMtls: [] };
for (let round = 0; round < rounds; round++) {
  for (const autoMtls of round % 2 ? [true, false] : [false, true]) {
    const began = performance.now();
    const plugin = await launch(autoMtls);
    const client = clientFor(plugin);
    await unary(client, "metadata", {});
    startup[autoMtls ? "autoMtls" : "plain"].push(performance.now() - began);
    client.close();
    await stopChild(plugin.child);
  }
}

const request = { method: "GET", path: "/hello?name=x", headers: [], body: Buffer.alloc(0) };
const plain = await launch(false);
const tls = await launch(true);
const channels = { plain: clientFor(plain), autoMtls: clientFor(tls) };
const latency = { plain: [], autoMtls: [] };
for (const client of Object.values(channels)) for (let i = 0; i < 200; i++) await unary(client, "handleHttp", request);
for (let block = 0; block < 10; block++) {
  for (const side of block % 2 ? ["autoMtls", "plain"] : ["plain", "autoMtls"]) {
    for (let i = 0; i < calls / 10; i++) {
      const began = performance.now();
      await unary(channels[side], "handleHttp", request);
      latency[side].push((performance.now() - began) * 1000);
    }
  }
}
for (const client of Object.values(channels)) client.close();
await Promise.all([stopChild(plain.child), stopChild(tls.child)]);

const med = (values) => Math.round(summary(values).median * 10) / 10;
console.log(JSON.stringify({
  hostIdentityFirstMs: Math.round(hostIdentityMs), hostCertNextMs: Math.round(secondCertMs * 10) / 10,
  startupMs: { plain: med(startup.plain), autoMtls: med(startup.autoMtls), added: med(startup.autoMtls) - med(startup.plain), rounds },
  handleHttpUs: { plain: med(latency.plain), autoMtls: med(latency.autoMtls), calls },
}, null, 2));
