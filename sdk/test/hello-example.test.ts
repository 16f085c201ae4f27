/** The `examples/hello` plugin, served in process and called over real gRPC. */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import * as grpc from "@grpc/grpc-js";
import { InitializeRequest, type Empty, type HealthResponse, type HTTPRequest, type HTTPResponse, type InitializeResponse } from "@qntx/protocol";
import { startPlugin, type PluginHandle } from "../src/index.js";
import { plugin } from "../../examples/hello/src/plugin.js";
import { bodyJson, call, dial, headerValues, wireRequest } from "./helpers.js";

let handle: PluginHandle;
let client: ReturnType<typeof dial>;

beforeAll(async () => {
  handle = await startPlugin(plugin);
  client = dial(handle.address);
});

afterAll(async () => {
  client?.close();
  await handle?.close({ force: true });
});

const http = (req: HTTPRequest, deadlineMs?: number) => call<HTTPRequest, HTTPResponse>(client, client.handleHttp, req, deadlineMs);

describe("examples/hello", () => {
  it("greets with the default greeting before Initialize", async () => {
    expect(bodyJson(await http(wireRequest("GET", "/hello")))).toEqual({ message: "Hello, world!" });
  });

  it("uses the configured greeting, the query and the path param", async () => {
    const init = await call<InitializeRequest, InitializeResponse>(client, client.initialize, InitializeRequest.fromPartial({ config: { greeting: "Hej" } }));
    expect(init.httpRoutes.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /hello", "GET /hello/:name", "POST /echo", "GET /cookies", "GET /slow"]);
    expect(bodyJson(await http(wireRequest("GET", "/hello?name=Ada")))).toEqual({ message: "Hej, Ada!" });
    expect(bodyJson(await http(wireRequest("GET", "/api/hello/hello/Bob")))).toEqual({ message: "Hej, Bob!" });
  });

  it("echoes a JSON body", async () => {
    const res = await http(wireRequest("POST", "/echo", { headers: [{ name: "Content-Type", values: ["application/json"] }], body: '{"x":1}' }));
    expect(bodyJson(res)).toEqual({ echo: { x: 1 }, headers: { "content-type": "application/json" } });
  });

  it("sets two cookies", async () => {
    expect(headerValues(await http(wireRequest("GET", "/cookies")), "set-cookie")).toEqual(["a=1; Path=/", "b=2; Path=/"]);
  });

  it("answers /slow after the wait, and a short client deadline expires first", async () => {
    expect(bodyJson(await http(wireRequest("GET", "/slow?ms=20")))).toEqual({ waitedMs: 20 });
    const err = (await http(wireRequest("GET", "/slow?ms=2000"), 100).catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect((await http(wireRequest("GET", "/slow?ms=-1"))).statusCode).toBe(400);
  });

  it("reports uptime in Health", async () => {
    const res = await call<Empty, HealthResponse>(client, client.health, {});
    expect(res.healthy).toBe(true);
    expect(Number(res.details.uptime_seconds)).toBeGreaterThanOrEqual(0);
  });
});
