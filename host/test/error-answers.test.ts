/**
 * Every error answer of the host is `{error, code, hint}` with the status the error catalogue
 * gives its code (@qntx/protocol error-catalogue.ts): the proxy's (unknown plugin, not
 * running, deadline, a plugin that crashes mid-call, a bad answer), the gateway's (no route,
 * body too large, wrong content type, no token, a plain GET on a WebSocket path, a wrong
 * method, WebSocket refusals) and Pulse's (unknown handler, no such job, a job in the wrong
 * state). One real host with real plugin processes.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { connect } from "node:net";
import { ERROR_CATALOGUE, type QntxErrorCode } from "@qntx/protocol";
import { adminHeaders, fakePluginTable, http, jobPluginTable, startTestHost, until, type TestHost } from "./harness.js";

let t: TestHost;

beforeAll(async () => {
  t = await startTestHost(
    fakePluginTable("fake", "ok") + fakePluginTable("crashy", "crash-after-ready") + fakePluginTable("idle", "ok", [], "auto_start = false") + jobPluginTable("jobs"),
    { request_timeout_ms: 800, max_body_bytes: 1024 },
  );
});

afterAll(async () => {
  await t?.close();
});

/** The answer has the catalogue's status for `code`, and a message and a hint. */
function expectAnswer(answer: { status: number; json: () => any }, code: QntxErrorCode): Record<string, unknown> {
  const body = answer.json();
  expect({ status: answer.status, code: body.code }).toEqual({ status: ERROR_CATALOGUE[code].status, code });
  expect(body.error).toEqual(expect.any(String));
  expect(body.hint).toEqual(expect.any(String));
  expect(body.error.length * body.hint.length).toBeGreaterThan(0);
  return body;
}

/** A raw upgrade request to `path`; resolves with the status and JSON body of the refusal. */
async function upgrade(path: string, headers: Record<string, string> = {}): Promise<{ status: number; json: () => any }> {
  const { port } = new URL(t.url);
  const socket = connect({ host: "127.0.0.1", port: Number(port) });
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const lines = { Host: "x", Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13", ...headers };
  socket.write(`GET ${path} HTTP/1.1\r\n${Object.entries(lines).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`);
  let text = "";
  socket.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
  await new Promise((resolve) => socket.once("close", resolve));
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  return { status, json: () => JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) };
}

describe("the proxy's answers", () => {
  it("404 PLUGIN_NOT_FOUND for an unknown plugin", async () => {
    expectAnswer(await http(`${t.url}/api/nope/x`), "PLUGIN_NOT_FOUND");
  });

  it("503 PLUGIN_UNAVAILABLE with the state for a plugin that is not running", async () => {
    const res = await http(`${t.url}/api/idle/ping`);
    expect(expectAnswer(res, "PLUGIN_UNAVAILABLE").state).toBe("stopped");
    expect(res.headers.get("retry-after")).toBe("2");
  });

  it("504 PLUGIN_TIMEOUT with grpc_status when the plugin does not answer in time", async () => {
    const body = expectAnswer(await http(`${t.url}/api/fake/hang`), "PLUGIN_TIMEOUT");
    expect(body).toMatchObject({ error: "plugin fake did not answer within 800 ms", grpc_status: "DEADLINE_EXCEEDED" });
  });

  it("502 PLUGIN_CALL_FAILED with grpc_status when the plugin dies during the call", async () => {
    const body = expectAnswer(await http(`${t.url}/api/crashy/ping`), "PLUGIN_CALL_FAILED");
    expect(body.grpc_status).toEqual(expect.any(String));
    expect(body.hint).toContain("qntx plugin logs crashy");
  });

  it("502 PLUGIN_BAD_RESPONSE for a status that is not a final HTTP status", async () => {
    expect(expectAnswer(await http(`${t.url}/api/fake/any-status/42`), "PLUGIN_BAD_RESPONSE").error).toBe("plugin fake answered an invalid HTTP status 42");
  });
});

describe("the gateway's answers", () => {
  it("404 ROUTE_NOT_FOUND for a path no route serves", async () => {
    expectAnswer(await http(`${t.url}/nowhere`), "ROUTE_NOT_FOUND");
  });

  it("413 PAYLOAD_TOO_LARGE, 415 UNSUPPORTED_MEDIA_TYPE, 400 INVALID_ARGUMENT for bodies", async () => {
    const headers = adminHeaders(t);
    expectAnswer(await http(`${t.url}/api/attestations`, { method: "POST", headers, body: JSON.stringify({ subjects: ["x".repeat(4096)] }) }), "PAYLOAD_TOO_LARGE");
    expectAnswer(await http(`${t.url}/api/attestations`, { method: "POST", headers: { ...headers, "content-type": "application/x-qntx-test" }, body: "x" }), "UNSUPPORTED_MEDIA_TYPE");
    expectAnswer(await http(`${t.url}/api/attestations`, { method: "POST", headers, body: "{nope" }), "INVALID_ARGUMENT");
  });

  it("401 UNAUTHORIZED without the admin token", async () => {
    expectAnswer(await http(`${t.url}/api/plugins/fake/stop`, { method: "POST" }), "UNAUTHORIZED");
  });

  it("426 UPGRADE_REQUIRED for a plain GET on a WebSocket path, 405 METHOD_NOT_ALLOWED for a wrong method", async () => {
    expectAnswer(await http(`${t.url}/ws/fake`), "UPGRADE_REQUIRED");
    const res = await http(`${t.url}/api/plugins/glyphs`, { method: "POST" });
    expectAnswer(res, "METHOD_NOT_ALLOWED");
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });

  it("refuses WebSocket upgrades with a code: unknown route or plugin, origin, not running", async () => {
    expectAnswer(await upgrade("/ws"), "ROUTE_NOT_FOUND");
    expectAnswer(await upgrade("/ws/nope"), "PLUGIN_NOT_FOUND");
    expectAnswer(await upgrade("/ws/fake", { Origin: "https://elsewhere.example" }), "ORIGIN_NOT_ALLOWED");
    expect(expectAnswer(await upgrade("/ws/idle"), "PLUGIN_UNAVAILABLE").state).toBe("stopped");
    expectAnswer(await upgrade("/ws/fake", { Upgrade: "h2c" }), "INVALID_ARGUMENT");
  });
});

describe("Pulse's answers carry Pulse's own codes", () => {
  it("400 UNKNOWN_HANDLER for a handler no plugin announced", async () => {
    const res = await http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify({ handler: "nobody/nothing" }) });
    expectAnswer(res, "UNKNOWN_HANDLER");
  });

  it("404 NOT_FOUND for a job or schedule that does not exist", async () => {
    expectAnswer(await http(`${t.url}/api/pulse/jobs/no-such-job`), "NOT_FOUND");
    expectAnswer(await http(`${t.url}/api/pulse/jobs/no-such-job/cancel`, { method: "POST", headers: adminHeaders(t) }), "NOT_FOUND");
    expectAnswer(await http(`${t.url}/api/pulse/schedules/jobs/nothing/enable`, { method: "POST", headers: adminHeaders(t) }), "NOT_FOUND");
  });

  it("400 INVALID_STATE for an action the job's state does not allow", async () => {
    const created = await http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify({ handler: "jobs/echo", payload: { x: 1 } }) });
    const id = created.json().job.id as string;
    await until(async () => ((await http(`${t.url}/api/pulse/jobs/${id}`)).json().job.status === "completed" ? true : undefined), "the job to complete");
    expectAnswer(await http(`${t.url}/api/pulse/jobs/${id}/pause`, { method: "POST", headers: adminHeaders(t) }), "INVALID_STATE");
  });
});
