/**
 * Transports of spawned plugins: auto-mTLS (`[host] auto_mtls`, the plugin's one-time
 * certificate pinned), unix sockets (`transport = "unix"`) and pinned files (`sha256`). Real
 * plugin processes: SDK plugins that support both transports, the fake plugin that supports
 * neither (as a QNTX plugin), and a QNTX-format TypeScript plugin run by the SDK's runner.
 */
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import * as grpc from "@grpc/grpc-js";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PluginClient, makeSelfSignedCertificate, type PluginCallError } from "@qntx/protocol";
import { adminHeaders, fakePluginTable, http, startTestHost, type TestHost } from "./harness.js";

const TLS_PLUGIN = fileURLToPath(new URL("./fixtures/tls-plugin.mjs", import.meta.url));
const QNTX_ROUTES = fileURLToPath(new URL("./fixtures/qntx-modules/routes", import.meta.url));
const sha256 = (file: string): string => createHash("sha256").update(readFileSync(file)).digest("hex");

let t: TestHost;

const sdkPlugin = (name: string, extra = ""): string => `[plugins.${name}]\nbinary = ${JSON.stringify(TLS_PLUGIN)}\nargs = ["--name", "${name}"]\n${extra}\n`;

beforeAll(async () => {
  t = await startTestHost([
    sdkPlugin("auto"),
    fakePluginTable("legacy", "ok"),
    fakePluginTable("optout", "ok", [], "auto_mtls = false"),
    sdkPlugin("sock", 'transport = "unix"\nauto_mtls = false'),
    sdkPlugin("both", 'transport = "unix"'),
    fakePluginTable("nosock", "ok", [], 'transport = "unix"\nauto_mtls = false'),
    sdkPlugin("pinned", `sha256 = "${sha256(TLS_PLUGIN).toUpperCase()}"`),
    sdkPlugin("tampered", `sha256 = "${"0".repeat(64)}"`),
    `[plugins.qroutes]\nbinary = ${JSON.stringify(QNTX_ROUTES)}\nsha256 = "${sha256(join(QNTX_ROUTES, "plugin.ts"))}"\n`,
  ].join("\n"), { auto_mtls: true });
});

afterAll(async () => {
  await t?.close();
});

const infoOf = async (name: string): Promise<{ state: string; error: string | null; hint: string | null; address: string | null }> => (await http(`${t.url}/api/plugins/${name}`)).json().plugin;
const codeOf = (name: string): unknown => t.logs.find((line) => line.plugin === name && line.code !== undefined)?.code;

/** A Metadata call to `address` with `credentials`: the name, or the gRPC error's text. */
async function metadataAt(address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): Promise<string> {
  const client = new PluginClient(address, { credentials, channelOptions: options });
  try {
    return (await client.metadata({ deadline: Date.now() + 2000 })).name;
  } catch (error) {
    return `error: ${(error as PluginCallError).details}`;
  } finally {
    client.close();
  }
}

it("runs an SDK plugin over auto-mTLS, which accepts only the host's client certificate", async () => {
  const info = await infoOf("auto");
  expect(info.state).toBe("running");
  expect((await http(`${t.url}/api/auto/whoami`)).json()).toEqual({ name: "auto" });
  const address = info.address!;
  expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
  // Plaintext is refused, and so is TLS with any other client certificate.
  expect(await metadataAt(address, grpc.credentials.createInsecure())).toMatch(/^error:/);
  const stranger = await makeSelfSignedCertificate({ commonName: "stranger" });
  const insecureServer = grpc.credentials.createSsl(null, Buffer.from(stranger.key), Buffer.from(stranger.cert), { rejectUnauthorized: false });
  expect(await metadataAt(address, insecureServer)).toMatch(/^error:/);
});

it("fails a plugin that does not announce a certificate under auto_mtls, with the way out in the hint", async () => {
  const info = await infoOf("legacy");
  expect(info.state).toBe("failed");
  expect(info.error).toContain("plugin legacy did not announce a certificate");
  expect(info.error).toContain("does not support auto-mTLS");
  expect(info.hint).toContain("auto_mtls = false in [plugins.legacy]");
  expect(codeOf("legacy")).toBe("TRANSPORT_UNSUPPORTED");
});

it("runs a plugin in plaintext when its table turns auto_mtls off", async () => {
  expect((await infoOf("optout")).state).toBe("running");
});

it("runs a plugin on a unix socket (0600, in a 0700 folder of the data dir) and removes it at stop", async () => {
  const info = await infoOf("sock");
  expect(info.state).toBe("running");
  const socket = join(t.dir, "data", "sockets", "sock.sock");
  expect(info.address).toBe(`unix://${socket}`);
  expect(statSync(socket).isSocket()).toBe(true);
  expect(statSync(socket).mode & 0o777).toBe(0o600);
  expect(statSync(join(t.dir, "data", "sockets")).mode & 0o777).toBe(0o700);
  expect((await http(`${t.url}/api/sock/whoami`)).json()).toEqual({ name: "sock" });
  const stopped = await http(`${t.url}/api/plugins/sock/stop`, { method: "POST", headers: adminHeaders(t) });
  expect(stopped.json().plugin.state).toBe("stopped");
  expect(existsSync(socket)).toBe(false);
  const started = await http(`${t.url}/api/plugins/sock/start`, { method: "POST", headers: adminHeaders(t) });
  expect(started.json().plugin.state).toBe("running");
  expect((await http(`${t.url}/api/sock/whoami`)).json()).toEqual({ name: "sock" });
});

it("runs auto-mTLS over a unix socket", async () => {
  const info = await infoOf("both");
  expect(info.state).toBe("running");
  expect(info.address).toBe(`unix://${join(t.dir, "data", "sockets", "both.sock")}`);
  expect(await metadataAt(info.address!, grpc.credentials.createInsecure())).toMatch(/^error:/);
  expect((await http(`${t.url}/api/both/whoami`)).json()).toEqual({ name: "both" });
});

it("fails a plugin that answers a socket request with a port", async () => {
  const info = await infoOf("nosock");
  expect(info.state).toBe("failed");
  expect(info.error).toContain("plugin nosock was asked to listen on a unix socket");
  expect(info.hint).toContain('remove transport = "unix"');
  expect(codeOf("nosock")).toBe("TRANSPORT_UNSUPPORTED");
});

it("runs a pinned plugin whose file has the pinned hash (any case)", async () => {
  expect((await infoOf("pinned")).state).toBe("running");
});

it("refuses to spawn a plugin whose file does not have the pinned hash, naming both hashes", async () => {
  const info = await infoOf("tampered");
  expect(info.state).toBe("failed");
  expect(info.error).toContain(`has sha256 ${sha256(TLS_PLUGIN)}`);
  expect(info.error).toContain(`pins sha256 ${"0".repeat(64)}`);
  expect(info.hint).toContain(`sha256sum ${TLS_PLUGIN}`);
  expect(info.address).toBeNull();
  expect(codeOf("tampered")).toBe("BINARY_MISMATCH");
});

it("pins a QNTX TypeScript plugin by its plugin.ts, and runs it over auto-mTLS through the SDK's runner", async () => {
  const info = await infoOf("qroutes");
  expect(info.state).toBe("running");
  expect(await metadataAt(info.address!, grpc.credentials.createInsecure())).toMatch(/^error:/);
  expect((await http(`${t.url}/api/qroutes/hello?name=tls`)).status).toBe(200);
});

it("reads a plugin's certificate line as protocol, never logging it as output", () => {
  expect(JSON.stringify(t.logs)).not.toMatch(/QNTX_PLUGIN_CERT=[A-Za-z0-9+/]{16}/);
  expect(t.logs.some((line) => line.plugin === "auto" && line.msg === "listening")).toBe(true);
});
