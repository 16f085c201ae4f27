/**
 * Mutual TLS to dialed plugins (`tls`, `server_name`): real certificates made with openssl,
 * real SDK plugin processes serving TLS (QNTX_TLS_*). A good setup runs; a wrong CA, a wrong
 * name, an expired certificate, a plaintext plugin and a refused client certificate each fail
 * the start at once (TLS_FAILED), naming the plugin with a hint.
 */
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { http, startTestHost, type TestHost } from "./harness.js";
import { issue, makeCa, type TestCert } from "./helpers/certs.js";
import { runPlugin, type RunningPlugin } from "./helpers/plugin-process.js";

const TLS_PLUGIN = fileURLToPath(new URL("./fixtures/tls-plugin.mjs", import.meta.url));

let dir: string;
let t: TestHost;
const plugins: RunningPlugin[] = [];

/** A TOML `tls` table. */
const tlsTable = (ca: string, client: TestCert): string => `tls = { ca = ${JSON.stringify(ca)}, cert = ${JSON.stringify(client.cert)}, key = ${JSON.stringify(client.key)} }`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "qntx-dial-tls-"));
  const ca = makeCa(dir, "ca");
  const other = makeCa(dir, "other");
  const server = issue(ca, "plugin", { sans: ["DNS:plugin.test", "IP:127.0.0.1"] });
  const expired = issue(ca, "expired", { sans: ["DNS:plugin.test", "IP:127.0.0.1"], expired: true });
  const hostClient = issue(ca, "host");
  const strangerClient = issue(other, "stranger");
  const serveTls = (cert: TestCert): Record<string, string> => ({ QNTX_TLS_CERT: cert.cert, QNTX_TLS_KEY: cert.key, QNTX_TLS_CLIENT_CA: ca.cert });

  const good = await runPlugin(TLS_PLUGIN, ["--name", "secure"], serveTls(server));
  const old = await runPlugin(TLS_PLUGIN, ["--name", "expired"], serveTls(expired));
  const plain = await runPlugin(TLS_PLUGIN, ["--name", "plain"]);
  plugins.push(good, old, plain);
  const at = (p: RunningPlugin): string => `address = "127.0.0.1:${p.port}"`;
  t = await startTestHost([
    `[plugins.secure]\n${at(good)}\n${tlsTable(ca.cert, hostClient)}\nserver_name = "plugin.test"`,
    `[plugins.byip]\n${at(good)}\n${tlsTable(ca.cert, hostClient)}`,
    `[plugins.misnamed]\n${at(good)}\n${tlsTable(ca.cert, hostClient)}\nserver_name = "elsewhere.test"`,
    `[plugins.wrongca]\n${at(good)}\n${tlsTable(other.cert, hostClient)}\nserver_name = "plugin.test"`,
    `[plugins.expired]\n${at(old)}\n${tlsTable(ca.cert, hostClient)}\nserver_name = "plugin.test"`,
    `[plugins.plain]\n${at(plain)}\n${tlsTable(ca.cert, hostClient)}`,
    `[plugins.refused]\n${at(good)}\n${tlsTable(ca.cert, strangerClient)}\nserver_name = "plugin.test"`,
    `[plugins.cleartext]\n${at(good)}`,
  ].join("\n\n"), { ready_timeout_ms: 3000 });
});

afterAll(async () => {
  await t?.close();
  for (const p of plugins) p.kill();
  rmSync(dir, { recursive: true, force: true });
});

const infoOf = async (name: string): Promise<{ state: string; error: string | null; hint: string | null }> => (await http(`${t.url}/api/plugins/${name}`)).json().plugin;

/** The code the manager logged for the plugin's failed start. */
const codeOf = (name: string): unknown => t.logs.find((line) => line.plugin === name && line.code !== undefined)?.code;

it("serves a plugin dialed over mutual TLS, with server_name checked against its certificate", async () => {
  expect((await infoOf("secure")).state).toBe("running");
  const res = await http(`${t.url}/api/secure/whoami`);
  expect(res.status).toBe(200);
  expect(res.json()).toEqual({ name: "secure" });
});

it("checks the address's IP against the certificate when no server_name is given", async () => {
  // The plugin's certificate carries IP:127.0.0.1, so the address alone is enough; Metadata
  // then answers "secure", not "byip": the TLS part passed.
  const info = await infoOf("byip");
  expect(info.state).toBe("failed");
  expect(info.error).toContain('reports its name as "secure"');
});

it("fails at once, naming the names, when the certificate is not for server_name", async () => {
  const info = await infoOf("misnamed");
  expect(info.state).toBe("failed");
  expect(info.error).toContain("plugin misnamed");
  expect(info.error).toContain('is not for the name "elsewhere.test"');
  expect(info.error).toContain("DNS:plugin.test");
  expect(info.hint).toContain("server_name");
  expect(codeOf("misnamed")).toBe("TLS_FAILED");
});

it("fails when the plugin's certificate is not signed by tls.ca", async () => {
  const info = await infoOf("wrongca");
  expect(info.state).toBe("failed");
  expect(info.error).toContain("plugin wrongca");
  expect(info.error).toContain("is not signed by the CA in tls.ca");
  expect(info.hint).toContain("tls.ca");
  expect(codeOf("wrongca")).toBe("TLS_FAILED");
});

it("fails when the plugin's certificate has expired", async () => {
  const info = await infoOf("expired");
  expect(info.state).toBe("failed");
  expect(info.error).toContain("plugin expired");
  expect(info.error).toContain("its certificate has expired");
  expect(info.hint).toContain("renew");
  expect(codeOf("expired")).toBe("TLS_FAILED");
});

it("fails when the plugin speaks plaintext", async () => {
  const info = await infoOf("plain");
  expect(info.state).toBe("failed");
  expect(info.error).toContain("plugin plain");
  expect(info.error).toContain("does not speak TLS");
  expect(info.hint).toContain("QNTX_TLS_CERT");
  expect(codeOf("plain")).toBe("TLS_FAILED");
});

it("says the plugin refused the host's client certificate when it closes every handshake", async () => {
  const info = await infoOf("refused");
  expect(info.state).toBe("failed");
  expect(info.error).toContain("plugin refused");
  expect(info.error).toContain("closed every TLS connection during the handshake");
  expect(info.hint).toContain("client certificate");
  expect(codeOf("refused")).toBe("TLS_FAILED");
});

it("a TLS plugin dialed in plaintext does not answer, and the hint says it may serve TLS", async () => {
  const info = await infoOf("cleartext");
  expect(info.state).toBe("failed");
  expect(info.error).toContain("plugin cleartext did not answer Metadata");
  expect(info.hint).toContain("if it serves TLS, add tls");
  expect(codeOf("cleartext")).toBe("NOT_READY");
});
