/**
 * The host's own TLS: `[host] grpc_tls` (its services require client certificates; spawned
 * plugins keep a loopback plaintext server) and `[host] tls` (HTTPS), with a CLI that trusts
 * the certificate host.json names. Real certificates from openssl, real plugin processes,
 * the real CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { pinnedFetch } from "../src/cli/pinned-fetch.js";
import { CLI, startTestHost, type TestHost } from "./harness.js";
import { issue, makeCa } from "./helpers/certs.js";
import { runPlugin, type RunningPlugin } from "./helpers/plugin-process.js";

const TLS_PLUGIN = fileURLToPath(new URL("./fixtures/tls-plugin.mjs", import.meta.url));
const ATS_PLUGIN = fileURLToPath(new URL("./fixtures/ats-plugin.mjs", import.meta.url));

let dir: string;
const plugins: RunningPlugin[] = [];
let t: TestHost;
/** The self-signed HTTPS certificate of the host. */
let httpsCert: string;
let fetchPinned: typeof fetch;

/** The CLI run against the test host's data dir. */
const cli = (host: TestHost, args: string[], env: Record<string, string> = {}) =>
  execa(process.execPath, [CLI, ...args, "--data-dir", join(host.dir, "data")], { reject: false, env: { QNTX_HOME: join(host.dir, "home"), ...env } });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "qntx-host-tls-"));
  const ca = makeCa(dir, "ca");
  const other = makeCa(dir, "other");
  const services = issue(ca, "services", { sans: ["IP:127.0.0.1"] });
  const remote = issue(ca, "remote");
  const stranger = issue(other, "stranger");
  httpsCert = join(dir, "https.pem");
  execFileSync("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "https-key.pem"), "-out", httpsCert, "-days", "2", "-subj", "/CN=qntx host", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], { stdio: "ignore" });
  fetchPinned = pinnedFetch(readFileSync(httpsCert));

  const hostTls = (cert: { cert: string; key: string }): Record<string, string> => ({ QNTX_HOST_TLS_CA: ca.cert, QNTX_HOST_TLS_CERT: cert.cert, QNTX_HOST_TLS_KEY: cert.key });
  const withCert = await runPlugin(TLS_PLUGIN, ["--name", "remote"], hostTls(remote));
  const withoutCert = await runPlugin(TLS_PLUGIN, ["--name", "anon"]);
  const wrongCert = await runPlugin(TLS_PLUGIN, ["--name", "stranger"], hostTls(stranger));
  plugins.push(withCert, withoutCert, wrongCert);
  const q = JSON.stringify;
  t = await startTestHost([
    `[plugins.remote]\naddress = "127.0.0.1:${withCert.port}"`,
    `[plugins.anon]\naddress = "127.0.0.1:${withoutCert.port}"`,
    `[plugins.stranger]\naddress = "127.0.0.1:${wrongCert.port}"`,
    `[plugins.local]\nbinary = ${q(ATS_PLUGIN)}\nargs = ["--name", "local"]`,
  ].join("\n\n"), {}, [
    `grpc_tls = { ca = ${q(ca.cert)}, cert = ${q(services.cert)}, key = ${q(services.key)} }`,
    `tls = { cert = ${q(httpsCert)}, key = ${q(join(dir, "https-key.pem"))} }`,
  ]);
});

afterAll(async () => {
  await t?.close();
  for (const p of plugins) p.kill();
  rmSync(dir, { recursive: true, force: true });
});

const post = async (path: string, body: unknown = {}): Promise<{ status: number; json: any }> => {
  const res = await fetchPinned(`${t.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
};

describe("[host] grpc_tls", () => {
  it("serves a dialed plugin that presents a client certificate issued by grpc_tls.ca", async () => {
    const made = await post("/api/remote/attest");
    expect(made.status).toBe(200);
    expect(made.json.id).toEqual(expect.any(String));
  });

  it("refuses a dialed plugin without a client certificate, or with one of another CA", async () => {
    for (const name of ["anon", "stranger"]) {
      const made = await post(`/api/${name}/attest`);
      expect(made.status).toBe(502);
      expect(made.json.error).toContain("ATSStoreService/GenerateAndCreateAttestation failed: UNAVAILABLE");
    }
  });

  it("gives spawned plugins a loopback plaintext server, so QNTX-style plugins keep working", async () => {
    const made = await post("/api/local/generate", { command: { subjects: ["tls-doc"] } });
    expect(made.status).toBe(200);
    expect(made.json.subjects).toEqual(["tls-doc"]);
  });
});

describe("[host] tls", () => {
  it("serves HTTPS, which a client that does not trust the certificate cannot reach", async () => {
    expect(t.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await expect(fetch(`${t.url}/api/plugins`)).rejects.toThrow();
    expect((await fetchPinned(`${t.url}/api/plugins`)).status).toBe(200);
  });

  it("names the certificate to trust in host.json, and the CLI uses it", async () => {
    const hostJson = JSON.parse(readFileSync(join(t.dir, "data", "host.json"), "utf8"));
    expect(hostJson.url).toBe(t.url);
    expect(hostJson.tlsCa).toBe(httpsCert);
    const listed = await cli(t, ["plugin", "list"]);
    expect(listed.stderr).toBe("");
    expect(listed.exitCode).toBe(0);
    expect(listed.stdout).toContain("remote");
    expect(listed.stdout).toContain("local");
  });

  it("says which certificate it cannot read when QNTX_HOST_CA names a missing file", async () => {
    const listed = await cli(t, ["plugin", "list"], { QNTX_HOST_CA: join(dir, "missing.pem") });
    expect(listed.exitCode).toBe(1);
    expect(listed.stderr).toContain(`cannot read the certificate to trust for ${t.url}: ${join(dir, "missing.pem")} (ENOENT)`);
  });
});

describe("[host] tls with a CA", () => {
  it("pins tls.ca when the certificate is issued by it, and the CLI works", async () => {
    const ca = makeCa(dir, "web-ca");
    const web = issue(ca, "web", { sans: ["IP:127.0.0.1"] });
    const q = JSON.stringify;
    const second = await startTestHost("", {}, [`tls = { cert = ${q(web.cert)}, key = ${q(web.key)}, ca = ${q(ca.cert)} }`]);
    try {
      expect(JSON.parse(readFileSync(join(second.dir, "data", "host.json"), "utf8")).tlsCa).toBe(ca.cert);
      const listed = await cli(second, ["plugin", "list"]);
      expect(listed.exitCode).toBe(0);
      expect(listed.stderr).toBe("");
    } finally {
      await second.close();
    }
  });
});
