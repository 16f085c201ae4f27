/**
 * Reads of the host's own API: open from this machine, admin token required from another one.
 * The "other machine" is this machine's non-loopback address, which makes the socket's remote
 * address non-loopback exactly as a remote client's would be.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { adminHeaders, fakePluginTable, http, startTestHost, type TestHost } from "./harness.js";
import { isLoopbackAddress } from "../src/gateway/read-guard.js";

const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal)?.address;
let t: TestHost;
let remote: string;

/** Sends `GET <target> HTTP/1.1` exactly as written (no client normalises it) and returns the raw answer. */
function rawGet(host: string, port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => socket.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    let answer = "";
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString("utf8")));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}

describe("isLoopbackAddress", () => {
  it("knows IPv4, IPv4-mapped and IPv6 loopback from the rest", () => {
    for (const a of ["127.0.0.1", "127.8.9.1", "::1", "::ffff:127.0.0.1"]) expect(isLoopbackAddress(a)).toBe(true);
    for (const a of ["192.0.2.2", "::ffff:10.0.0.1", "fd00::2", "", undefined, "::ffff:localhost"]) expect(isLoopbackAddress(a)).toBe(false);
  });
});

// Without a non-loopback interface there is no way to make a non-loopback connection.
const withRemote = external ? describe : describe.skip;
if (!external) console.warn("read-guard.test: no non-loopback IPv4 interface on this machine; the remote-read tests are skipped");

withRemote("host API reads from another address", () => {
  beforeAll(async () => {
    t = await startTestHost(fakePluginTable("echo", "ok"), { listen: "0.0.0.0:0" });
    remote = t.url.replace(/\/\/[^:/]+:/, `//${external}:`);
  });

  afterAll(async () => {
    await t?.close();
  });

  it("answers 401 with a hint without the token, and the data with it", async () => {
    for (const path of ["/api/plugins", "/api/host", "/api/attestations", "/api/pulse/jobs", "/api/pulse/handlers", "/api/plugins/echo/config", "/api/hosts", "/api/files", "/api/pulse/budget"]) {
      const bare = await http(`${remote}${path}`);
      expect([path, bare.status]).toEqual([path, 401]);
      expect(bare.json().hint).toContain("admin.token");
      const withToken = await http(`${remote}${path}`, { headers: adminHeaders(t) });
      expect([path, withToken.status]).toEqual([path, 200]);
    }
  });

  it("cannot be passed with a percent-encoded path", async () => {
    for (const path of ["/%61pi/pulse/jobs", "/api/%70lugins", "/api/pulse%2Fjobs"]) {
      const res = await http(`${remote}${path}`);
      expect([path, res.status]).not.toEqual([path, 200]);
      expect(res.text).not.toContain('"jobs"');
      expect(res.text).not.toContain('"plugins"');
    }
  });

  it("cannot be passed with any form of the target the router also accepts", async () => {
    // Absolute-form targets (RFC 9112 §3.2.2), doubled slashes, dot segments, case, encodings:
    // whatever the router makes of them, the guard decides on the same route.
    const targets = [
      "http://anything/api/plugins", "http://127.0.0.1/api/pulse/jobs", "https://x:1/api/attestations", "HTTP://X/api/plugins/echo/config",
      "//api/plugins", "/api//plugins", "/api/plugins/", "/api/plugins?x=1", "/API/plugins", "/api/./plugins", "/api/x/../plugins",
      "/api/%2e%2e/api/plugins", "/api/pulse/jobs%3F", "/api/plugins%2F", "/api/host#frag",
    ];
    const port = Number(new URL(remote).port);
    for (const target of targets) {
      const answer = await rawGet(external!, port, target);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
      expect([target, status === 200 && /"(plugins|jobs|attestations|version)"/.test(answer)]).toEqual([target, false]);
    }
  });

  it("stays open from this machine, and leaves plugin routes to the plugin", async () => {
    const local = t.url.replace(/\/\/[^:/]+:/, "//127.0.0.1:");
    expect((await http(`${local}/api/pulse/jobs`)).status).toBe(200);
    expect((await http(`${local}/api/plugins`)).status).toBe(200);
    // A plugin route answers whatever the plugin answers, token or not.
    const viaRemote = await http(`${remote}/api/echo/`);
    const viaLocal = await http(`${local}/api/echo/`);
    expect(viaRemote.status).toBe(viaLocal.status);
    expect(viaRemote.status).not.toBe(401);
  });
});
