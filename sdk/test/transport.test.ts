/**
 * How an SDK plugin listens, from its environment (transport.ts) and how it reaches a host
 * over mutual TLS (clients/host-tls.ts): the checks that refuse a half-given setup, auto-mTLS
 * answered by a real server that accepts only the host's certificate, and a real plugin
 * process announcing its certificate before its port line.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { CLIENT_CERT_ENV, DomainPluginServiceClient, grpcOptions, makeSelfSignedCertificate, parseCertLine, parsePortLine } from "@qntx/protocol";
import { definePlugin, hostChannelFromEnv, startPlugin, transportFromEnv } from "../src/index.js";
import { killSpawned, spawnPluginProcess } from "./fixtures/plugin-process.js";

const fixture = fileURLToPath(new URL("./fixtures/plugin.mjs", import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  killSpawned();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function metadataAt(address: string, credentials: grpc.ChannelCredentials): Promise<string> {
  const client = new DomainPluginServiceClient(address, credentials, { ...grpcOptions(), "grpc.ssl_target_name_override": "localhost" });
  return new Promise((resolve) => {
    client.metadata({}, new grpc.Metadata(), { deadline: Date.now() + 2000 }, (error, response) => {
      client.close();
      resolve(error ? `error: ${error.details}` : response.name);
    });
  });
}

describe("transportFromEnv", () => {
  it("is plaintext TCP when nothing is set", async () => {
    expect(await transportFromEnv({})).toEqual({});
  });

  it("refuses half a TLS setup, naming the variables", async () => {
    await expect(transportFromEnv({ QNTX_TLS_CERT: "/x.pem" })).rejects.toThrow("set both QNTX_TLS_CERT and QNTX_TLS_KEY (only QNTX_TLS_CERT is set)");
    await expect(transportFromEnv({ QNTX_TLS_CLIENT_CA: "/ca.pem" })).rejects.toThrow("QNTX_TLS_CLIENT_CA is set but QNTX_TLS_CERT and QNTX_TLS_KEY are not");
    await expect(transportFromEnv({ QNTX_TLS_CERT: "/nowhere/c.pem", QNTX_TLS_KEY: "/nowhere/k.pem" })).rejects.toThrow("QNTX_TLS_CERT: cannot read /nowhere/c.pem: ENOENT");
    await expect(transportFromEnv({ [CLIENT_CERT_ENV]: "not a certificate" })).rejects.toThrow(`${CLIENT_CERT_ENV} is not a PEM certificate`);
    await expect(transportFromEnv({ QNTX_PLUGIN_SOCKET: "relative.sock" })).rejects.toThrow("QNTX_PLUGIN_SOCKET must be an absolute path");
  });

  it("answers auto-mTLS with its own certificate and a server that accepts only the host's", async () => {
    const hostIdentity = await makeSelfSignedCertificate({ commonName: "qntx-host" });
    const choice = await transportFromEnv({ [CLIENT_CERT_ENV]: hostIdentity.cert });
    const announced = new X509Certificate(choice.announceCert!);
    expect(announced.subject).toContain("CN=qntx-plugin");
    const handle = await startPlugin(definePlugin({ metadata: { name: "auto", version: "1.0.0" } }), { tls: choice.tls! });
    try {
      const pinned = Buffer.from(announced.toString());
      expect(await metadataAt(handle.address, grpc.credentials.createSsl(pinned, Buffer.from(hostIdentity.key), Buffer.from(hostIdentity.cert)))).toBe("auto");
      const other = await makeSelfSignedCertificate({ commonName: "someone" });
      expect(await metadataAt(handle.address, grpc.credentials.createSsl(pinned, Buffer.from(other.key), Buffer.from(other.cert)))).toMatch(/^error:/);
      expect(await metadataAt(handle.address, grpc.credentials.createInsecure())).toMatch(/^error:/);
    } finally {
      await handle.close({ force: true });
    }
  });
});

describe("serve() under auto-mTLS", () => {
  it("prints its certificate line before its port line", async () => {
    const hostIdentity = await makeSelfSignedCertificate({ commonName: "qntx-host" });
    const plugin = spawnPluginProcess(fixture, ["--port", "0"], { env: { [CLIENT_CERT_ENV]: hostIdentity.cert } });
    const port = await plugin.port;
    const lines = plugin.stdoutLines.filter((line) => line.startsWith("QNTX_PLUGIN_"));
    expect(lines).toHaveLength(2);
    const cert = new X509Certificate(parseCertLine(lines[0]!)!);
    expect(parsePortLine(lines[1]!)).toBe(port);
    const credentials = grpc.credentials.createSsl(Buffer.from(cert.toString()), Buffer.from(hostIdentity.key), Buffer.from(hostIdentity.cert));
    expect(await metadataAt(`127.0.0.1:${port}`, credentials)).not.toMatch(/^error:/);
  });

  it("exits 1 with the reason when its TLS files are incomplete", async () => {
    const plugin = spawnPluginProcess(fixture, ["--port", "0"], { env: { QNTX_TLS_KEY: "/k.pem" } });
    expect((await plugin.exit).code).toBe(1);
    expect(plugin.stderr()).toContain("set both QNTX_TLS_CERT and QNTX_TLS_KEY (only QNTX_TLS_KEY is set)");
  });
});

describe("hostChannelFromEnv", () => {
  it("is plaintext without QNTX_HOST_TLS_*, and names what is missing or unreadable", () => {
    expect(hostChannelFromEnv({}).options).toEqual({});
    expect(() => hostChannelFromEnv({ QNTX_HOST_TLS_CA: "/ca.pem" })).toThrow("mutual TLS to the host needs QNTX_HOST_TLS_CERT and QNTX_HOST_TLS_KEY too (set: QNTX_HOST_TLS_CA)");
    expect(() => hostChannelFromEnv({ QNTX_HOST_TLS_CA: "/nowhere/ca.pem", QNTX_HOST_TLS_CERT: "/c", QNTX_HOST_TLS_KEY: "/k" })).toThrow("QNTX_HOST_TLS_CA: cannot read /nowhere/ca.pem: ENOENT");
  });

  it("builds mutual TLS credentials with the server name override", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qntx-host-tls-env-"));
    dirs.push(dir);
    const pair = await makeSelfSignedCertificate({ commonName: "plugin" });
    writeFileSync(join(dir, "c.pem"), pair.cert);
    writeFileSync(join(dir, "k.pem"), pair.key);
    const channel = hostChannelFromEnv({ QNTX_HOST_TLS_CA: join(dir, "c.pem"), QNTX_HOST_TLS_CERT: join(dir, "c.pem"), QNTX_HOST_TLS_KEY: join(dir, "k.pem"), QNTX_HOST_TLS_SERVER_NAME: "host.internal" });
    expect(channel.credentials._isSecure()).toBe(true);
    expect(channel.options).toEqual({ "grpc.ssl_target_name_override": "host.internal", "grpc.default_authority": "host.internal" });
  });
});
