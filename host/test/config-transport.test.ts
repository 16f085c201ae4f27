/**
 * The transport keys of the config against real files: `tls`/`server_name` of dialed plugins,
 * `sha256`/`transport`/`auto_mtls` of spawned ones, `[host] grpc_tls`, `tls` and `auto_mtls`.
 * Certificate files are real (openssl) and checked when the config loads: a missing,
 * unreadable or malformed file, or a key of another certificate, is an error at `file:line`.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig, type HostConfig } from "../src/config/index.js";
import { issue, makeCa, type TestCert } from "./helpers/certs.js";
import { configError } from "./helpers/config-error.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

afterEach(() => cleanupTempDirs());

/** A temp dir holding certificates (`certs/`) and the config, with HOME inside it. */
function sandbox(): { dir: string; env: NodeJS.ProcessEnv; ca: string; cert: TestCert; other: TestCert } {
  const dir = makeTempDir("qntx-config-tls-");
  const authority = makeCa(dir, "certs");
  return { dir, env: { HOME: dir }, ca: authority.cert, cert: issue(authority, "host"), other: issue(authority, "other") };
}

function load(dir: string, env: NodeJS.ProcessEnv, lines: string[]): HostConfig {
  writeFileSync(join(dir, "am.plugins.toml"), `${lines.join("\n")}\n`);
  return loadConfig({ cwd: dir, env });
}

function loadError(dir: string, env: NodeJS.ProcessEnv, lines: string[]): ConfigError {
  return configError(() => load(dir, env, lines));
}

describe("a dialed plugin's tls", () => {
  it("resolves the files against the config's folder and keeps server_name", () => {
    const { dir, env } = sandbox();
    const config = load(dir, env, [
      "[plugins.remote]",
      'address = "plugins.example.com:9000"',
      'tls = { ca = "certs/ca.pem", cert = "certs/host.pem", key = "certs/host-key.pem" }',
      'server_name = "plugin.internal"',
    ]);
    expect(config.plugins[0]!.source).toEqual({
      kind: "address", address: "plugins.example.com:9000", serverName: "plugin.internal",
      tls: { ca: join(dir, "certs/ca.pem"), cert: join(dir, "certs/host.pem"), key: join(dir, "certs/host-key.pem") },
    });
  });

  it("reports a missing certificate file at its line, with the path searched", () => {
    const { dir, env } = sandbox();
    const error = loadError(dir, env, ["[plugins.remote]", 'address = "127.0.0.1:9000"', 'tls = { ca = "certs/nope.pem", cert = "certs/host.pem", key = "certs/host-key.pem" }']);
    expect(error.message).toBe(`am.plugins.toml:3: plugins.remote.tls.ca cannot read ${join(dir, "certs/nope.pem")}: ENOENT`);
    expect(error.describe()).toContain("relative paths are resolved against the config file's folder");
  });

  it("reports an unreadable key file", () => {
    if (process.getuid?.() === 0) {
      // root reads every file: a file that is not PEM stands in for an unreadable one.
      const { dir, env } = sandbox();
      writeFileSync(join(dir, "certs/garbage.pem"), "not a key\n");
      const error = loadError(dir, env, ["[plugins.remote]", 'address = "127.0.0.1:9000"', 'tls = { ca = "certs/ca.pem", cert = "certs/host.pem", key = "certs/garbage.pem" }']);
      expect(error.message).toContain(`am.plugins.toml:3: plugins.remote.tls.key ${join(dir, "certs/garbage.pem")} is not a PEM private key`);
      return;
    }
    const { dir, env, cert } = sandbox();
    chmodSync(cert.key, 0);
    const error = loadError(dir, env, ["[plugins.remote]", 'address = "127.0.0.1:9000"', 'tls = { ca = "certs/ca.pem", cert = "certs/host.pem", key = "certs/host-key.pem" }']);
    expect(error.message).toContain("plugins.remote.tls.key cannot read");
    expect(error.message).toContain("EACCES");
  });

  it("refuses a file that is not a certificate, and a key of another certificate", () => {
    const { dir, env } = sandbox();
    const error = loadError(dir, env, [
      "[plugins.a]", 'address = "127.0.0.1:9000"', 'tls = { ca = "certs/host-key.pem", cert = "certs/host.pem", key = "certs/host-key.pem" }',
      "[plugins.b]", 'address = "127.0.0.1:9001"', 'tls = { ca = "certs/ca.pem", cert = "certs/host.pem", key = "certs/other-key.pem" }',
    ]);
    expect(error.message).toContain(`am.plugins.toml:3: plugins.a.tls.ca ${join(dir, "certs/host-key.pem")} is not a PEM certificate`);
    expect(error.message).toContain(`am.plugins.toml:6: plugins.b.tls.key ${join(dir, "certs/other-key.pem")} is not the key of the certificate ${join(dir, "certs/host.pem")}`);
  });

  it("needs all three files, knows no other keys, and takes server_name only with tls", () => {
    const { dir, env } = sandbox();
    const error = loadError(dir, env, [
      "[plugins.a]", 'address = "127.0.0.1:9000"', 'tls = { ca = "certs/ca.pem", certificate = "certs/host.pem" }',
      "[plugins.b]", 'address = "127.0.0.1:9001"', 'server_name = "x"',
    ]);
    expect(error.message).toContain("plugins.a.tls.certificate is not a known key");
    expect(error.message).toContain("plugins.a.tls needs cert");
    expect(error.message).toContain("plugins.a.tls needs key");
    expect(error.message).toContain(":6: plugins.b.server_name only applies with tls");
  });

  it("takes unix: addresses, relative ones against the config's folder", () => {
    const { dir, env } = sandbox();
    const config = load(dir, env, ["[plugins.a]", 'address = "unix:///run/a.sock"', "[plugins.b]", 'address = "unix:sockets/b.sock"']);
    expect(config.plugins.map((p) => p.source)).toEqual([
      { kind: "address", address: "unix:///run/a.sock" },
      { kind: "address", address: `unix://${join(dir, "sockets/b.sock")}` },
    ]);
  });
});

describe("a spawned plugin's transport keys", () => {
  it("reads sha256 (lowercased), transport and auto_mtls", () => {
    const { dir, env } = sandbox();
    const config = load(dir, env, ["[plugins.a]", 'binary = "a"', `sha256 = "${"AB".repeat(32)}"`, 'transport = "unix"', "auto_mtls = false"]);
    expect(config.plugins[0]!.source).toMatchObject({ kind: "binary", sha256: "ab".repeat(32), transport: "unix", autoMtls: false });
  });

  it("refuses a malformed sha256 or transport, and these keys on other sources (and tls on a binary)", () => {
    const { dir, env } = sandbox();
    const error = loadError(dir, env, [
      "[plugins.a]", 'binary = "a"', 'sha256 = "abc"', 'transport = "pipe"', 'tls = { ca = "certs/ca.pem", cert = "certs/host.pem", key = "certs/host-key.pem" }',
      "[plugins.b]", 'address = "127.0.0.1:9000"', `sha256 = "${"0".repeat(64)}"`,
    ]);
    expect(error.message).toContain(':3: plugins.a.sha256 must be 64 hexadecimal digits (got "abc")');
    expect(error.message).toContain(':4: plugins.a.transport must be "tcp" or "unix" (got "pipe")');
    expect(error.message).toContain(":5: plugins.a.tls only applies to plugins dialed at an address (this one uses binary)");
    expect(error.message).toContain(":8: plugins.b.sha256 only applies to plugins started from a binary (this one uses address)");
  });
});

describe("[host] grpc_tls, tls and auto_mtls", () => {
  it("reads them, tls.ca optional", () => {
    const { dir, env } = sandbox();
    const config = load(dir, env, [
      "[host]",
      'grpc_tls = { ca = "certs/ca.pem", cert = "certs/host.pem", key = "certs/host-key.pem" }',
      'tls = { cert = "certs/host.pem", key = "certs/host-key.pem" }',
      "auto_mtls = true",
    ]);
    expect(config.host.grpcTls).toEqual({ ca: join(dir, "certs/ca.pem"), cert: join(dir, "certs/host.pem"), key: join(dir, "certs/host-key.pem") });
    expect(config.host.tls).toEqual({ cert: join(dir, "certs/host.pem"), key: join(dir, "certs/host-key.pem"), ca: undefined });
    expect(config.host.autoMtls).toBe(true);
    const defaults = load(dir, env, ["[host]"]).host;
    expect([defaults.autoMtls, defaults.grpcTls, defaults.tls]).toEqual([false, undefined, undefined]);
  });

  it("reports each bad file at its line", () => {
    const { dir, env } = sandbox();
    const error = loadError(dir, env, [
      "[host]",
      'grpc_tls = { ca = "certs/ca.pem", cert = "certs/missing.pem", key = "certs/host-key.pem" }',
      'tls = { cert = "certs/host.pem", key = "certs/host-key.pem", ca = "certs/none.pem" }',
      'auto_mtls = "yes"',
    ]);
    expect(error.message).toContain(`am.plugins.toml:2: host.grpc_tls.cert cannot read ${join(dir, "certs/missing.pem")}: ENOENT`);
    expect(error.message).toContain(`am.plugins.toml:3: host.tls.ca cannot read ${join(dir, "certs/none.pem")}: ENOENT`);
    expect(error.message).toContain("am.plugins.toml:4: host.auto_mtls must be true or false");
  });
});
