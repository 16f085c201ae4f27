import { describe, expect, it } from "@jest/globals";
import { status } from "@grpc/grpc-js";
import { formatPortLine, parsePortLine } from "../src/port-line.js";
import { fromWireHeaders, toWireHeaders } from "../src/headers.js";
import { grpcStatusToHttp } from "../src/status.js";
import { ExecuteJobRequest, HTTPResponse } from "../src/index.js";

describe("port line", () => {
  it("round-trips a port", () => {
    expect(parsePortLine(formatPortLine(38701))).toBe(38701);
    expect(parsePortLine("QNTX_PLUGIN_PORT=38702\r")).toBe(38702);
  });
  it("rejects lines that are not port lines", () => {
    for (const line of ["", "hello", "QNTX_PLUGIN_PORT=", "QNTX_PLUGIN_PORT=abc", "QNTX_PLUGIN_PORT=70000", "x QNTX_PLUGIN_PORT=1"]) {
      expect(parsePortLine(line)).toBeUndefined();
    }
  });
});

describe("headers", () => {
  it("keeps every value of a repeated header both ways", () => {
    const wire = toWireHeaders({ "set-cookie": ["a=1", "b=2"], "content-type": "text/plain", "x-none": undefined });
    expect(wire).toEqual([
      { name: "set-cookie", values: ["a=1", "b=2"] },
      { name: "content-type", values: ["text/plain"] },
    ]);
    expect(fromWireHeaders([...wire, { name: "Set-Cookie", values: ["c=3"] }])).toEqual({
      "set-cookie": ["a=1", "b=2", "c=3"],
      "content-type": ["text/plain"],
    });
  });
});

describe("grpc → http status", () => {
  it("maps as PROTOCOL.md §3 says", () => {
    expect(grpcStatusToHttp(status.NOT_FOUND)).toBe(404);
    expect(grpcStatusToHttp(status.UNIMPLEMENTED)).toBe(404);
    expect(grpcStatusToHttp(status.DEADLINE_EXCEEDED)).toBe(504);
    expect(grpcStatusToHttp(status.INTERNAL)).toBe(502);
    expect(grpcStatusToHttp(status.UNKNOWN)).toBe(502);
  });
});

describe("generated messages", () => {
  it("keeps presence of optional timeout_secs", () => {
    const absent = ExecuteJobRequest.decode(ExecuteJobRequest.encode({ jobId: "j", handlerName: "h", payload: Buffer.alloc(0) }).finish());
    expect(absent.timeoutSecs).toBeUndefined();
    const zero = ExecuteJobRequest.decode(ExecuteJobRequest.encode({ jobId: "j", handlerName: "h", payload: Buffer.alloc(0), timeoutSecs: 0 }).finish());
    expect(zero.timeoutSecs).toBe(0);
  });
  it("encodes field numbers as the contract says", () => {
    // HTTPResponse{1 status_code=200}: tag (1<<3|0)=0x08, varint 200 = 0xc8 0x01.
    const bytes = HTTPResponse.encode({ statusCode: 200, headers: [], body: Buffer.alloc(0) }).finish();
    expect(Buffer.from(bytes).toString("hex")).toBe("08c801");
  });
});
